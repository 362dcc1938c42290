"""Scheduled jobs: seal every log every CHAIN_SEAL_SECONDS, verify them all nightly.

They run in ONE dedicated process (scripts/run_scheduler.py), never inside gunicorn
workers: APScheduler cannot share a job store between processes (its FAQ: "Run the scheduler
in a dedicated process"). Sealing is also safe if a second scheduler or an on-demand seal
runs at the same time (app.services.chain takes a per-log lock), so this is about not
doing the work twice, not about correctness.
"""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from app.clock import SHANGHAI, iso_utc
from app.db import db, write_transaction
from app.models import ChainAlert
from app.services import chain
from app.services.chain_verify import Report, run_verify

log = logging.getLogger("suanpan.jobs")


def seal_job(app: Flask) -> int:
    """Seal every log with new leaves; returns how many blocks were made."""
    with app.app_context(), db.connection_context():
        try:
            return len(chain.seal_all())
        except chain.ChainIntegrityError as e:  # a log refused to be signed: tell the owners
            log.error("seal refused: %s", e)
            return 0


def verify_job(app: Flask) -> list[Report]:
    """Verify every log; on failure log an error and raise an alert for the owners."""
    with app.app_context(), db.connection_context():
        reports = run_verify(None)
        for r in reports:
            if not r.ok:
                log.error("chain verify FAILED: %s", r.problems[0])
                raise_alert(r)
        return reports


def raise_alert(report: Report) -> ChainAlert:
    """Record a failed verification; owners see it at GET .../chain/alerts."""
    lines = [str(p) for p in report.problems]
    with write_transaction():
        return ChainAlert.create(
            business_id=report.business_id,
            kind="verify_failed",
            message="\n".join(lines),
        )


def list_alerts(business_id: int) -> list[dict[str, Any]]:
    rows = (
        ChainAlert.select()
        .where(ChainAlert.business_id == business_id)
        .order_by(ChainAlert.id.desc())
        .limit(50)
    )
    return [
        {
            "id": a.id,
            "kind": a.kind,
            "message": a.message,
            "created_at": iso_utc(a.created_at),
            "resolved_at": iso_utc(a.resolved_at),
        }
        for a in rows
    ]


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Register the chain jobs on a scheduler (one instance of each at a time)."""
    hour, minute = (int(x) for x in app.config["CHAIN_VERIFY_AT"].split(":"))
    scheduler.add_job(
        seal_job,
        IntervalTrigger(seconds=app.config["CHAIN_SEAL_SECONDS"]),
        args=[app],
        id="chain-seal",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
    scheduler.add_job(
        verify_job,
        CronTrigger(hour=hour, minute=minute, timezone=SHANGHAI),
        args=[app],
        id="chain-verify",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
        replace_existing=True,
    )
