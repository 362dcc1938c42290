#!/usr/bin/env python3
"""Tax-rules benchmark: the daily run over many businesses, and the post-posting check's cost.

    .venv/bin/python scripts/bench/tax.py [--backend sqlite|postgres] [--businesses 1000]
        [--per-day 3] [--postings 2000] [--keep] [--database URL] [--no-analyze] [--code DIR]

On a throw-away database (a temp SQLite file, or a fresh PostgreSQL database
`suanpan_bench_<random>` on postgresql://postgres@127.0.0.1:5432, dropped at the end):

1. creates N businesses (app.services.businesses.create_business: chart of accounts,
   categories, owner) and bulk-inserts a year of posted entries for each (2025-04-01 to
   2026-03-31, `--per-day` entries a day: sales into 5001, expenses over the expense lines
   the rules read, some cash; sizes vary per business so that some rules fire). The rows are
   inserted directly, not through post_entry, to build the data in reasonable time; then
   ANALYZEs the tables (a database that grew over a year has been auto-analyzed long since;
   `--no-analyze` times the freshly loaded tables as they are);
2. times `run_daily_tax_checks` as of 2026-03-31 08:00 Shanghai over all of them, twice: the
   first run opens warnings, the second finds them already stored (the steady state);
   goal: under 60 s for 1,000 businesses with a year of entries each;
3. times `--postings` revenue postings through post_entry with the post-posting threshold
   check subscribed and unsubscribed, alternating in blocks of 250 (the goal: no measurable
   slowdown of the API's quick records).

Timings are wall-clock on this machine; compare numbers from one run only. To compare two
versions of the code on the same data (and under the same load), build once with `--keep
--postings 0`, which prints the database URL and leaves it in place, then time each version with
`--database URL --postings 0 [--code DIR]` (`--code` imports the app from another checkout, e.g.
`git worktree add /tmp/taxold <commit>`). A reused database gets its warnings, run log and
month-sales aggregate cleared first, so run 1 opens the warnings again. Drop it when done
(`DROP DATABASE suanpan_bench_...`, or delete the SQLite file's directory).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path


def _code_dir(argv: list[str]) -> str:
    """`--code DIR`: import the app from another checkout (read before any app import)."""
    for i, a in enumerate(argv):
        if a == "--code" and i + 1 < len(argv):
            return str(Path(argv[i + 1]).resolve())
        if a.startswith("--code="):
            return str(Path(a.split("=", 1)[1]).resolve())
    return str(Path(__file__).resolve().parents[2])


sys.path.insert(0, _code_dir(sys.argv[1:]))

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
START = dt.date(2025, 4, 1)
END = dt.date(2026, 3, 31)
EXPENSES = ["560201", "560202", "560203", "560204", "560205", "560206", "560101", "560207"]


def setup_app(backend: str, tmp: Path, database: str | None = None, keep: bool = False):  # type: ignore[no-untyped-def]
    from app import create_app
    from app.db import db
    from app.migrate import upgrade
    from config import TestingConfig

    cleanup = None
    if database:
        url = database
    elif backend == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        import psycopg2

        name = f"suanpan_bench_{uuid.uuid4().hex[:10]}"
        admin = psycopg2.connect(PG_ADMIN)
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name

        def cleanup() -> None:
            db.close_all()
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        if keep:
            cleanup = None

    cfg = type(
        "BenchConfig",
        (TestingConfig,),
        {"DATABASE_URL": url, "INSTANCE_PATH": str(tmp / "instance"), "CHAIN_KEY_SCRYPT_N": 2**10},
    )
    app = create_app(cfg)
    with app.app_context(), db.connection_context():
        upgrade()
    return app, cleanup, url


def analyze() -> float:
    """Refresh the planner's statistics after the bulk load (autovacuum would, in time)."""
    from app.db import db

    t0 = time.perf_counter()
    with db.connection_context():
        db.execute_sql("ANALYZE")
    return time.perf_counter() - t0


def reset_tax_state() -> None:
    """A reused database: forget earlier runs, so run 1 opens the warnings again."""
    from app.db import db, write_transaction
    from app.models.tax import TaxMonthSales, TaxNotification, TaxRun, TaxWarning

    with db.connection_context(), write_transaction():
        TaxNotification.delete().execute()
        TaxWarning.delete().execute()
        TaxRun.delete().execute()
        TaxMonthSales.delete().execute()


def build(businesses: int, per_day: int, seed: int = 7) -> tuple[int, int]:
    from app.db import db, write_transaction
    from app.models import Account, Entry, EntryLine
    from app.services import auth
    from app.services import businesses as biz

    rng = random.Random(seed)
    entries = lines = 0
    with db.connection_context():
        user = auth.register("bench_owner", "bench-password-123")
        owner_id = user.id if hasattr(user, "id") else user["user_id"]
        days = [START + dt.timedelta(days=i) for i in range((END - START).days + 1)]
        for b in range(businesses):
            kind = "general" if b % 5 == 0 else "small_scale"
            business = biz.create_business(owner_id, f"商户{b}", "91110000600037341L", kind)
            ids = {
                a.code: a.id
                for a in Account.select(Account.code, Account.id).where(
                    Account.business == business.id
                )
            }
            scale = rng.choice([300, 800, 2000, 5000, 15000])  # yuan of sales a day
            entry_rows, line_rows = [], []
            number = 0
            for day in days:
                for k in range(per_day):
                    number += 1
                    if k == 0:
                        amount = rng.randint(scale * 50, scale * 150)  # fen
                        pair = (("1002", amount, 0), ("5001", 0, amount))
                    else:
                        account = rng.choice(EXPENSES)
                        amount = rng.randint(2000, scale * 40)
                        money = "1001" if rng.random() < 0.1 else "1002"
                        pair = ((account, amount, 0), (money, 0, amount))
                    entry_rows.append(
                        {
                            "business": business.id,
                            "number": number,
                            "date": day,
                            "memo": "bench",
                            "status": "posted",
                            "source": "quick",
                            "created_at": dt.datetime(2026, 1, 1),
                            "posted_at": dt.datetime(2026, 1, 1),
                        }
                    )
                    line_rows.append(pair)
            with write_transaction():
                first = None
                for chunk in range(0, len(entry_rows), 500):
                    Entry.insert_many(entry_rows[chunk : chunk + 500]).execute()
                first = (
                    Entry.select(Entry.id)
                    .where(Entry.business == business.id)
                    .order_by(Entry.number)
                    .tuples()
                )
                rows = []
                for (entry_id,), pair in zip(first, line_rows, strict=True):
                    for i, (code, debit, credit) in enumerate(pair, 1):
                        rows.append(
                            {
                                "entry": entry_id,
                                "line_no": i,
                                "account": ids[code],
                                "debit": debit,
                                "credit": credit,
                            }
                        )
                for chunk in range(0, len(rows), 1000):
                    EntryLine.insert_many(rows[chunk : chunk + 1000]).execute()
            entries += len(entry_rows)
            lines += len(line_rows) * 2
            if (b + 1) % 100 == 0:
                print(f"  built {b + 1} businesses", flush=True)
    return entries, lines


def bench_daily() -> list[tuple[float, object]]:
    from app.clock import SHANGHAI
    from app.db import db
    from app.tax.jobs import run_daily_tax_checks

    out = []
    with db.connection_context():
        for _ in range(2):
            now = dt.datetime(2026, 3, 31, 8, 0, tzinfo=SHANGHAI)
            t0 = time.perf_counter()
            run = run_daily_tax_checks(now)
            out.append((time.perf_counter() - t0, run))
    return out


def bench_posting(postings: int) -> dict[str, float]:
    from app.db import db
    from app.events import subscribe, unsubscribe
    from app.services.posting import EntryInput, LineInput, post_entry
    from app.tax.immediate import on_ledger_event

    timings = {"with": 0.0, "without": 0.0}
    counts = {"with": 0, "without": 0}
    block = 250
    with db.connection_context():
        for i in range(0, postings, block):
            mode = "with" if (i // block) % 2 == 0 else "without"
            (subscribe if mode == "with" else unsubscribe)(on_ledger_event)
            t0 = time.perf_counter()
            for j in range(block):
                e = EntryInput(
                    date=dt.date(2026, 3, 31),
                    memo="bench",
                    lines=(LineInput("1002", debit=3550), LineInput("5001", credit=3550)),
                    source="quick",
                )
                post_entry(1 + (i + j) % 10, e, None)
            timings[mode] += time.perf_counter() - t0
            counts[mode] += block
        subscribe(on_ledger_event)
    return {m: counts[m] / timings[m] for m in timings if timings[m]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--businesses", type=int, default=1000)
    ap.add_argument("--per-day", type=int, default=3)
    ap.add_argument("--postings", type=int, default=2000, help="0: skip the posting benchmark")
    ap.add_argument("--keep", action="store_true", help="leave the built database in place")
    ap.add_argument("--database", help="time an existing database built with --keep (no build)")
    ap.add_argument("--no-analyze", action="store_true", help="no ANALYZE after the bulk load")
    ap.add_argument("--code", help="import the app from this checkout (compare versions)")
    args = ap.parse_args(argv)
    print(f"{platform.platform()}; {os.cpu_count()} CPUs; Python {platform.python_version()}")
    print(f"code: {_code_dir(sys.argv[1:])}; load average {os.getloadavg()}")
    tmp = tempfile.mkdtemp(prefix="suanpan_bench_") if args.keep else None
    with tempfile.TemporaryDirectory() as scratch:
        app, cleanup, url = setup_app(args.backend, Path(tmp or scratch), args.database, args.keep)
        try:
            with app.app_context():
                if args.database:
                    reset_tax_state()
                    print(f"reusing {url}")
                else:
                    t0 = time.perf_counter()
                    entries, lines = build(args.businesses, args.per_day)
                    print(
                        f"built {args.businesses} businesses, {entries} entries, {lines} lines "
                        f"in {time.perf_counter() - t0:.1f} s ({args.backend})"
                    )
                    if not args.no_analyze:
                        print(f"ANALYZE: {analyze():.1f} s")
                    if args.keep:
                        print(f"kept: --database {url}")
                for n, (seconds, run) in enumerate(bench_daily(), 1):
                    print(
                        f"daily run {n}: {seconds:.1f} s for {run.businesses} businesses "  # type: ignore[attr-defined]
                        f"({seconds / max(run.businesses, 1) * 1000:.1f} ms each); "  # type: ignore[attr-defined]
                        f"opened {run.opened}, updated {run.updated}, resolved {run.resolved}, "  # type: ignore[attr-defined]
                        f"failures {run.failures}"  # type: ignore[attr-defined]
                    )
                print(f"load average {os.getloadavg()}")
                if args.postings > 0:
                    rates = bench_posting(args.postings)
                    print(
                        "post_entry (revenue lines, post-posting check on/off): "
                        + ", ".join(f"{k}: {v:.0f}/s" for k, v in rates.items())
                        + f" -> overhead {rates['without'] / rates['with']:.2f}x"
                    )
        finally:
            if cleanup:
                cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
