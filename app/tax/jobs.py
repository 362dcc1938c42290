"""The daily tax run: every business, once per scheduled slot, logged, caught up after downtime.

Exactly once per slot, however many schedulers run: a run first inserts its `tax_run` row with
the slot (the scheduled fire time) as a unique key; a second scheduler, web worker or catch-up
for the same slot loses the insert and skips. A run that died mid-way (row still `running`
after TAX_RUN_STALE_MINUTES) may be taken over. On scheduler start the latest slot that should
have fired is looked up and run if it has no row (missed while the process was down); several
missed days collapse into one run as of today, since warnings are about the current state.

Scheduling itself belongs in one dedicated process (APScheduler's FAQ: a job store cannot be
shared between processes): `register_tax_jobs(scheduler, app)` adds the jobs to it.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app, has_app_context
from peewee import IntegrityError

from app.clock import SHANGHAI, utcnow
from app.db import db, is_postgres, write_transaction
from app.models import Business
from app.models.tax import EntryInvoice, TaxProfile, TaxRun
from app.tax.books import load_profile
from app.tax.notify import Channel, notify_pending
from app.tax.service import check_business

log = logging.getLogger("suanpan.tax.jobs")
Clock = Callable[[], dt.datetime]


def utc_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def slot_key(slot: dt.datetime) -> str:
    return _naive_utc(slot).isoformat(timespec="seconds") + "Z"


def _claim(slot: str, kind: str, as_of: dt.date, stale_minutes: int) -> TaxRun | None:
    try:
        with write_transaction():
            return TaxRun.create(slot=slot, kind=kind, state="running", as_of=as_of)
    except IntegrityError:
        pass
    cutoff = utcnow() - dt.timedelta(minutes=stale_minutes)
    with write_transaction():
        taken = (
            TaxRun.update(kind=kind, started_at=utcnow(), as_of=as_of)
            .where(
                (TaxRun.slot == slot) & (TaxRun.state == "running") & (TaxRun.started_at < cutoff)
            )
            .execute()
        )
    return TaxRun.get(TaxRun.slot == slot) if taken else None


def run_daily_tax_checks(
    now: dt.datetime,
    *,
    slot: dt.datetime | None = None,
    kind: str = "manual",
    channels: Sequence[Channel] = (),
    stale_minutes: int = 120,
    workers: int | None = None,
) -> TaxRun | None:
    """Check every business as of `now`'s Shanghai date; None when the slot was already taken.

    `workers`: threads checking businesses side by side within this one run (each with its own
    connection; while one waits for the database another computes). Default: 2 on PostgreSQL
    (this machine has 2 cores), 1 on SQLite, where writers queue for the one write lock anyway.
    """
    aware = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    as_of = aware.astimezone(SHANGHAI).date()
    key = slot_key(slot) if slot is not None else f"manual:{uuid.uuid4().hex[:16]}"
    run = _claim(key, kind, as_of, stale_minutes)
    if run is None:
        log.info("tax run %s already done or running elsewhere; skipped", key)
        return None
    counts = {"businesses": 0, "opened": 0, "updated": 0, "resolved": 0, "failures": 0}
    problems: list[str] = []
    profiles = {p.business_id: p for p in TaxProfile.select()}
    # Which businesses record invoice references at all (most have none): one query here
    # instead of two per business in the invoice rules.
    invoiced = {b for (b,) in EntryInvoice.select(EntryInvoice.business).distinct().tuples()}
    if workers is None:
        workers = 2 if is_postgres() else 1
    try:

        def check(business: Business) -> None:
            try:
                s = check_business(
                    business.id,
                    as_of,
                    profile=load_profile(business, profiles.get(business.id), lookup=False),
                    sync_sales=True,
                    has_invoices=business.id in invoiced,
                )
            except Exception as exc:  # one broken business must not stop the others
                with lock:
                    counts["failures"] += 1
                    problems.append(f"business {business.id}: {exc}"[:300])
                log.exception("tax check failed for business %s", business.id)
                return
            with lock:
                counts["businesses"] += 1
                counts["opened"] += s.opened
                counts["updated"] += s.updated
                counts["resolved"] += s.resolved

        lock = threading.Lock()
        businesses = Business.select().order_by(Business.id)
        if workers <= 1:
            for business in businesses.iterator():
                check(business)
        else:
            _in_threads(check, list(businesses), workers)
        if channels:
            notify_pending(channels)
        state = "done"
    except Exception as exc:
        state = "failed"
        problems.append(str(exc)[:300])
        log.exception("tax run %s failed", key)
    with write_transaction():
        TaxRun.update(
            state=state, finished_at=utcnow(), message="\n".join(problems[:20]), **counts
        ).where(TaxRun.id == run.id).execute()
    log.info("tax run %s (%s) as of %s: %s", key, kind, as_of, counts)
    return TaxRun.get_by_id(run.id)


def _in_threads(
    check: Callable[[Business], None], businesses: list[Business], workers: int
) -> None:
    """Run `check` over the businesses in `workers` threads, each on its own connection (and in
    the caller's app context, if any). Each business is checked exactly once; the run's lock
    (the tax_run row) stays with the caller."""
    todo: queue.SimpleQueue[Business] = queue.SimpleQueue()
    for b in businesses:
        todo.put(b)
    app = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context() if app is not None else nullcontext(), db.connection_context():
                while True:
                    try:
                        business = todo.get_nowait()
                    except queue.Empty:
                        return
                    check(business)
        except BaseException as exc:  # e.g. no connection: the run is reported failed
            errors.append(exc)

    threads = [threading.Thread(target=worker, name=f"tax-run-{i}") for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


_DOW = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def crontab_trigger(expr: str, timezone: ZoneInfo) -> CronTrigger:
    """A standard 5-field crontab line. APScheduler 3's from_crontab counts weekdays from
    Monday = 0, so crontab's "1-5" (Monday to Friday) would silently become Tuesday to
    Saturday; weekday numbers are turned into names here."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"TAX_DAILY_CRON: expected 5 fields (m h dom mon dow), got {expr!r}")
    minute, hour, day, month, dow = fields
    dow = re.sub(r"\b([0-7])\b", lambda m: _DOW[int(m.group(1))], dow)
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=dow, timezone=timezone
    )


def daily_trigger(app: Flask) -> CronTrigger:
    return crontab_trigger(app.config["TAX_DAILY_CRON"], ZoneInfo(app.config["TAX_TIMEZONE"]))


def last_slot(trigger: CronTrigger, now: dt.datetime, lookback_days: int = 8) -> dt.datetime | None:
    """The latest fire time <= now (None if none within the look-back)."""
    cursor = now - dt.timedelta(days=lookback_days)
    prev, last = None, None
    while True:
        t = trigger.get_next_fire_time(prev, cursor)
        if t is None or t > now:
            return last
        last, prev, cursor = t, t, t + dt.timedelta(seconds=1)


def _with_app(app: Flask, fn: Callable[[], object]) -> object:
    with app.app_context(), db.connection_context():
        return fn()


def scheduled_run(app: Flask, clock: Clock = utc_clock, kind: str = "scheduled") -> TaxRun | None:
    """What the cron job calls: the slot is the latest fire time, so retries cannot double up."""

    def go() -> TaxRun | None:
        now = clock()
        slot = last_slot(daily_trigger(app), now) or now
        return run_daily_tax_checks(
            now,
            slot=slot,
            kind=kind,
            channels=app.extensions.get("suanpan.tax.channels", ()),
            stale_minutes=app.config["TAX_RUN_STALE_MINUTES"],
            workers=app.config.get("TAX_RUN_WORKERS"),
        )

    return _with_app(app, go)  # type: ignore[return-value]


def catch_up(app: Flask, clock: Clock = utc_clock) -> TaxRun | None:
    """Run the latest missed slot, if its run never happened (e.g. the process was down)."""

    def missed() -> bool:
        slot = last_slot(daily_trigger(app), clock())
        return (
            slot is not None and not TaxRun.select().where(TaxRun.slot == slot_key(slot)).exists()
        )

    if not _with_app(app, missed):
        return None
    return scheduled_run(app, clock, kind="catch_up")


def notify_sweep(app: Flask) -> int:
    return _with_app(  # type: ignore[return-value]
        app, lambda: notify_pending(app.extensions.get("suanpan.tax.channels", ()))
    )


def register_tax_jobs(scheduler: BaseScheduler, app: Flask, clock: Clock = utc_clock) -> None:
    """Add the daily run, a catch-up at start and the notification sweep to a scheduler."""
    scheduler.add_job(
        scheduled_run,
        daily_trigger(app),
        args=[app, clock],
        id="tax-daily",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=6 * 3600,
        replace_existing=True,
    )
    scheduler.add_job(
        catch_up, args=[app, clock], id="tax-catch-up", replace_existing=True, max_instances=1
    )
    scheduler.add_job(
        notify_sweep,
        IntervalTrigger(seconds=app.config["TAX_NOTIFY_SECONDS"]),
        args=[app],
        id="tax-notify",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
