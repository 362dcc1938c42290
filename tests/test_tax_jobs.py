"""The daily run: a real APScheduler BackgroundScheduler under a controlled clock, one run per
slot however many schedulers, catch-up after downtime, the run log, no duplicate warnings."""

from __future__ import annotations

import datetime as dt
import threading

import apscheduler.executors.base as executors_base
import apscheduler.schedulers.base as schedulers_base
import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler

from app import ConfigurationError
from app.clock import SHANGHAI
from app.db import db
from app.models.tax import TaxRun, TaxWarning
from app.tax.jobs import (
    catch_up,
    crontab_trigger,
    register_tax_jobs,
    run_daily_tax_checks,
    scheduled_run,
)
from tests.conftest import Api
from tests.tax_helpers import profile, quick, warnings


class Clock:
    """The time APScheduler and our jobs see; moved by the test, never by the wall clock."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(dt.datetime(2026, 3, 30, 7, 59, 0, tzinfo=SHANGHAI))

    class FrozenDatetime(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return c.now.astimezone(tz) if tz else c.now.replace(tzinfo=None)

    monkeypatch.setattr(schedulers_base, "datetime", FrozenDatetime)
    monkeypatch.setattr(executors_base, "datetime", FrozenDatetime)
    return c


def _books_over_threshold(api: Api, bid: int) -> None:
    profile(api, bid, vat_filing_basis="monthly")
    quick(api, bid, "income", "120000.00", "sales", "2026-03-10")


def test_the_scheduler_fires_the_daily_job_at_eight_shanghai(
    app, books: Api, business: dict, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    _books_over_threshold(books, business["id"])
    with db.connection_context():
        TaxWarning.delete().execute()  # only the scheduled run may create warnings now
    done = threading.Event()
    results: list[object] = []
    scheduler = BackgroundScheduler(timezone="UTC")

    def listener(event) -> None:  # type: ignore[no-untyped-def]
        if event.job_id == "tax-daily":
            results.append(event.exception or event.retval)
            done.set()

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    register_tax_jobs(scheduler, app, clock)
    scheduler.remove_job("tax-catch-up")  # tested on its own below
    scheduler.start()
    try:
        job = scheduler.get_job("tax-daily")
        assert job.next_run_time == dt.datetime(2026, 3, 30, 8, 0, tzinfo=SHANGHAI)
        assert not done.is_set()
        clock.now = dt.datetime(2026, 3, 30, 8, 0, 1, tzinfo=SHANGHAI)
        scheduler.wakeup()
        assert done.wait(30), "the daily job did not fire"
    finally:
        scheduler.shutdown()
    (run,) = results
    assert isinstance(run, TaxRun) and run.state == "done" and run.kind == "scheduled"
    assert run.slot == "2026-03-30T00:00:00Z" and run.as_of == dt.date(2026, 3, 30)
    assert run.businesses == 1 and run.opened >= 1
    ids = {w["rule_id"] for w in warnings(books, business["id"])}
    assert "cn.vat.small_scale_threshold.2026" in ids


def test_one_run_per_slot_even_with_two_schedulers(app, books: Api, business: dict) -> None:  # type: ignore[no-untyped-def]
    _books_over_threshold(books, business["id"])
    eight = dt.datetime(2026, 3, 30, 8, 0, tzinfo=SHANGHAI)
    with db.connection_context():
        first = run_daily_tax_checks(eight, slot=eight, kind="scheduled")
        second = run_daily_tax_checks(eight, slot=eight, kind="scheduled")
        assert first is not None and second is None
        assert TaxRun.select().count() == 1


def test_runs_never_duplicate_warnings(app, books: Api, business: dict) -> None:  # type: ignore[no-untyped-def]
    bid = business["id"]
    _books_over_threshold(books, bid)
    with db.connection_context():
        for day in (28, 29, 30):
            moment = dt.datetime(2026, 3, day, 8, 0, tzinfo=SHANGHAI)
            run_daily_tax_checks(moment, slot=moment, kind="scheduled")
        rows = list(TaxWarning.select().where(TaxWarning.business == bid))
        keys = [(w.rule_id, w.period_key) for w in rows]
        assert len(keys) == len(set(keys))
        assert TaxRun.select().where(TaxRun.state == "done").count() == 3
    threshold = [w for w in warnings(books, bid) if w["rule_id"].endswith("threshold.2026")]
    assert len(threshold) == 1 and threshold[0]["as_of"] == "2026-03-30"


def test_acknowledged_stays_acknowledged_and_clears_to_resolved(
    app, books: Api, business: dict
) -> None:  # type: ignore[no-untyped-def]
    bid = business["id"]
    profile(books, bid, vat_filing_basis="monthly")
    sale = quick(books, bid, "income", "120000.00", "sales", "2026-03-10")
    (w,) = [x for x in warnings(books, bid) if x["rule_id"].endswith("threshold.2026")]
    r = books.post(f"/businesses/{bid}/tax/warnings/acknowledge", {"ids": [w["id"]]})
    assert r.status_code == 200 and r.get_json()["items"][0]["state"] == "acknowledged"
    with db.connection_context():
        moment = dt.datetime(2026, 3, 31, 8, 0, tzinfo=SHANGHAI)
        run_daily_tax_checks(moment, slot=moment)
    (w2,) = [x for x in warnings(books, bid) if x["rule_id"].endswith("threshold.2026")]
    assert (w2["id"], w2["state"]) == (w["id"], "acknowledged")
    books.post(f"/businesses/{bid}/entries/{sale['id']}/reverse", {"date": "2026-03-31"})
    (w3,) = [x for x in warnings(books, bid, "resolved") if x["id"] == w["id"]]
    assert w3["state"] == "resolved"
    r = books.post(f"/businesses/{bid}/tax/warnings/acknowledge", {"ids": [w["id"]]})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "warning_resolved"


def test_catch_up_runs_the_missed_slot_once(app, books: Api, business: dict) -> None:  # type: ignore[no-untyped-def]
    _books_over_threshold(books, business["id"])
    # The scheduler was down over 08:00; it starts again at 11:00.
    clock = Clock(dt.datetime(2026, 3, 30, 11, 0, tzinfo=SHANGHAI))
    run = catch_up(app, clock)
    assert run is not None and run.kind == "catch_up" and run.slot == "2026-03-30T00:00:00Z"
    assert catch_up(app, clock) is None  # done: nothing to catch up
    assert scheduled_run(app, clock) is None  # the slot is taken: no second run
    clock.now = dt.datetime(2026, 3, 31, 8, 0, tzinfo=SHANGHAI)
    assert scheduled_run(app, clock).slot == "2026-03-31T00:00:00Z"


def test_a_crashed_run_can_be_taken_over_after_it_goes_stale(
    app, books: Api, business: dict
) -> None:  # type: ignore[no-untyped-def]
    moment = dt.datetime(2026, 3, 30, 8, 0, tzinfo=SHANGHAI)
    with db.connection_context():
        TaxRun.create(
            slot="2026-03-30T00:00:00Z",
            kind="scheduled",
            state="running",
            as_of=dt.date(2026, 3, 30),
            started_at=dt.datetime(2000, 1, 1),
        )
        run = run_daily_tax_checks(moment, slot=moment, kind="catch_up")
        assert run is not None and run.state == "done"


def test_the_configured_cron_is_used(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(TAX_DAILY_CRON="30 6 * * 1-5")
    scheduler = BackgroundScheduler(timezone="UTC")
    register_tax_jobs(scheduler, app)
    trigger = scheduler.get_job("tax-daily").trigger
    nxt = trigger.get_next_fire_time(None, dt.datetime(2026, 3, 28, 0, 0, tzinfo=SHANGHAI))
    assert nxt == dt.datetime(2026, 3, 30, 6, 30, tzinfo=SHANGHAI)  # Saturday -> Monday
    nxt = trigger.get_next_fire_time(None, dt.datetime(2026, 4, 3, 7, 0, tzinfo=SHANGHAI))
    assert nxt == dt.datetime(2026, 4, 6, 6, 30, tzinfo=SHANGHAI)  # Friday 07:00 -> Monday
    with pytest.raises(ValueError, match="5 fields"):
        crontab_trigger("0 8 * *", SHANGHAI)
    with pytest.raises(ConfigurationError, match="TAX_DAILY_CRON"):
        app_factory(TAX_DAILY_CRON="0 25 * * *")


def test_flask_tax_check_command(app, books: Api, business: dict) -> None:  # type: ignore[no-untyped-def]
    _books_over_threshold(books, business["id"])
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["tax", "check", "--business", str(business["id"]), "--date", "2026-03-31"]
    )
    assert result.exit_code == 0, result.output
    assert "cn.vat.small_scale_threshold.2026" in result.output and "120000.00" in result.output
    bad = runner.invoke(args=["tax", "check", "--business", "999", "--date", "2026-03-31"])
    assert bad.exit_code != 0 and "Business not found" in bad.output
    bad = runner.invoke(args=["tax", "check", "--business", "1", "--date", "2026-02-30"])
    assert bad.exit_code != 0
    ok = runner.invoke(args=["tax", "validate"])
    assert ok.exit_code == 0 and "cn-small-business" in ok.output
    daily = runner.invoke(args=["tax", "run-daily", "--date", "2026-03-31"])
    assert daily.exit_code == 0 and "done; 1 businesses" in daily.output
    assert "manual" in runner.invoke(args=["tax", "runs"]).output
