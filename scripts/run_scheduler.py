#!/usr/bin/env python3
"""The one scheduler process: seals the chain every CHAIN_SEAL_SECONDS, verifies it nightly,
runs the daily tax checks (TAX_DAILY_CRON, with catch-up), delivers tax warnings, and runs
the rule contracts and payment retries (CONTRACTS_TICK_SECONDS).

scripts/run starts it next to gunicorn. --exit-with-parent makes it stop when the process
that started it goes away (gunicorn, which replaced the launching shell by exec).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apscheduler.schedulers.blocking import BlockingScheduler  # noqa: E402

from app import create_app  # noqa: E402
from app.contracts.jobs import register_contract_jobs  # noqa: E402
from app.jobs import add_jobs  # noqa: E402
from app.services.chain_keys import keyring  # noqa: E402
from app.tax.jobs import register_tax_jobs  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--exit-with-parent", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line every 2 s
    app = create_app(check_schema=True)
    print(f"chain key: {keyring.ensure()}", flush=True)
    keyring.signer()  # decrypt once now: a wrong passphrase fails at start, not at 2 s
    scheduler = BlockingScheduler(timezone="UTC")
    add_jobs(scheduler, app)
    register_tax_jobs(scheduler, app)
    register_contract_jobs(scheduler, app)
    if args.exit_with_parent:
        parent = os.getppid()

        def watch_parent() -> None:
            if os.getppid() != parent:
                scheduler.shutdown(wait=False)

        scheduler.add_job(watch_parent, "interval", seconds=1, id="watch-parent")
    scheduler.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
