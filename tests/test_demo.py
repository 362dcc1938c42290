"""`flask demo create`: a demo business with three months of entries and three logins."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.clock import business_today
from app.models import Business, Entry, Membership
from tests.conftest import Api


def test_demo_creates_a_realistic_business_once(app, tmp_path: Path) -> None:
    logins = tmp_path / "logins.txt"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "create", "--logins-file", str(logins)])
    assert result.exit_code == 0, result.output
    assert "created" in result.output and "demo_owner" in result.output
    business = Business.get()
    roles = sorted(m.role for m in Membership.select().where(Membership.business == business))
    assert roles == ["bookkeeper", "employee", "owner"]
    dates = [e.date for e in Entry.select().where(Entry.business == business)]
    assert len(dates) > 150
    months = {(d.year, d.month) for d in dates}
    assert len(months) == 3 and max(dates) <= business_today()
    assert min(dates) >= (business_today().replace(day=1) - dt.timedelta(days=62)).replace(day=1)

    again = runner.invoke(args=["demo", "create", "--logins-file", str(logins)])
    assert again.exit_code == 0 and "exists" in again.output
    assert Business.select().count() == 1

    # The printed logins work, and the books balance.
    line = next(ln for ln in logins.read_text().splitlines() if ln.startswith("owner"))
    password = line.split("password=")[1]
    api = Api(app.test_client())
    r = api.post("/auth/login", {"username": "demo_owner", "password": password})
    assert r.status_code == 200
    tb = api.get(
        f"/businesses/{business.id}/reports/trial-balance", token=r.get_json()["access_token"]
    ).get_json()
    assert tb["balanced"] and tb["total_debit"] != "0.00"


def test_demo_shows_a_contract_paying_bills(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """After the scheduler's first tick the demo has a run, a payment for the bookkeeper to
    mark paid, and one over the approval line waiting for the owner; the chain stays clean."""
    from app.contracts.jobs import contracts_job
    from app.models import Contract, ContractRun, Payment

    runner = app.test_cli_runner()
    assert (
        runner.invoke(args=["demo", "create", "--logins-file", str(tmp_path / "l")]).exit_code == 0
    )
    [c] = Contract.select()
    assert c.enabled and c.template == "pay_bills"
    assert contracts_job(app) == 2  # the two bills due today; the third is due next week
    assert ContractRun.select().count() == 2
    statuses = sorted((p.amount, p.status) for p in Payment.select())
    assert statuses == [(128_000, "submitted"), (356_000, "awaiting_approval")]
    result = runner.invoke(args=["chain", "verify", "--quiet"])
    assert result.exit_code == 0, result.output
