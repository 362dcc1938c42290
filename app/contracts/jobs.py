"""The contracts' scheduler jobs: one engine pass, one payment-retry pass and one pass asking
providers about submitted payments every CONTRACTS_TICK_SECONDS, in the single scheduler
process (scripts/run_scheduler.py).

Both are safe if run twice at once: runs are unique per (version, triggering leaf) and a
payment's success is applied once under the business lock, so this is about not doing the
work twice, not about correctness.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from app.contracts import engine
from app.db import db
from app.payments import service as payments

log = logging.getLogger("suanpan.contracts")


def contracts_job(app: Flask) -> int:
    """Announce due bills and schedules, run contracts, retry payments that are due, then ask
    the providers about submitted payments whose notification has not come."""
    with app.app_context(), db.connection_context():
        runs = engine.tick_all()
        for step in (payments.retry_due, payments.reconcile_due):
            try:
                step()
            except Exception:  # a provider outage must not stop the next tick
                log.exception("%s failed", step.__name__)
        return runs


def register_contract_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    scheduler.add_job(
        contracts_job,
        IntervalTrigger(seconds=app.config["CONTRACTS_TICK_SECONDS"]),
        args=[app],
        id="contracts-tick",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
