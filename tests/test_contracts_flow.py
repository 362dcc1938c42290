"""Contracts over HTTP: versions and deployment on the chain, bills paid on the due day,
receivables settled from a payment, reserves, approvals and limits, idempotent runs, dry-run
without side effects, retries with exactly one success, and a clean `flask chain verify`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.contracts import engine
from app.db import db
from app.models import (
    Bill,
    ChainLeaf,
    Contract,
    ContractRun,
    ContractVersion,
    Entry,
    Payment,
    Receivable,
)
from app.payments import providers
from app.payments import service as payments
from tests.claims_helpers import team
from tests.conftest import Api


@pytest.fixture
def t(api: Api) -> dict:
    return team(api)


def pay_bill_doc(limit: str = "1000.00", above: str = "500.00", **extra: Any) -> dict:
    return {
        "name": "到期付供应商",
        "trigger": {"event": "bill.due"},
        "condition": {">": [{"var": "event.amount"}, 0]},
        "actions": [
            {
                "type": "pay",
                "payee": {"var": "event.payee"},
                "payee_name": {"var": "event.supplier"},
                "amount": {"var": "event.amount"},
                "from_account": "1002",
                "to_account": "2202",
                "target": "bill",
            },
            {"type": "require_approval", "roles": ["owner"], "above": above},
        ],
        "limits": {"per_run": limit},
        **extra,
    }


def create(api: Api, t: dict, doc: dict, who: str = "owner") -> Any:
    return api.post(f"/businesses/{t['bid']}/contracts", {"document": doc}, token=t[who])


def deploy(api: Api, t: dict, cid: int) -> dict:
    r = api.post(f"/businesses/{t['bid']}/contracts/{cid}/deploy", {}, token=t["owner"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def add_bill(api: Api, t: dict, amount: str, due: str = "2020-01-01") -> dict:
    r = api.post(
        f"/businesses/{t['bid']}/bills",
        {"supplier": "好味食品", "payee": "sup:haowei", "amount": amount, "due_date": due},
        token=t["bookkeeper"],
    )
    assert r.status_code == 201, r.get_json()
    bill = r.get_json()
    r = api.post(f"/businesses/{t['bid']}/bills/{bill['id']}/approve", {}, token=t["owner"])
    assert r.status_code == 200, r.get_json()
    return bill


def process(api: Api, t: dict) -> int:
    r = api.post(f"/businesses/{t['bid']}/contracts/process", {}, token=t["owner"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()["runs"]


def leaves(bid: int, kind: str) -> list[dict]:
    q = ChainLeaf.select().where((ChainLeaf.business_id == bid) & (ChainLeaf.type == kind))
    return [json.loads(x.data) for x in q.order_by(ChainLeaf.idx)]


def verify_clean(app) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["chain", "verify", "--quiet"])
    assert result.exit_code == 0, result.output


def test_bill_paid_on_due_day_by_manual_provider(api: Api, t: dict, app) -> None:  # type: ignore[no-untyped-def]
    c = create(api, t, pay_bill_doc())
    assert c.status_code == 201, c.get_json()
    c = c.get_json()
    assert c["deployed_version"] is None and not c["enabled"]
    assert process(api, t) == 0  # not deployed: nothing fires
    d = deploy(api, t, c["id"])
    bill = add_bill(api, t, "320.00")
    assert d["enabled"] and d["deployed_hash"] == c_hash(c)
    dep = leaves(t["bid"], "contract.deployed")[-1]
    assert dep["content"]["hash"] == d["deployed_hash"] and dep["actor"] == t_owner_id(t)
    assert process(api, t) == 1
    [p] = api.get(f"/businesses/{t['bid']}/payments", token=t["owner"]).get_json()["items"]
    assert p["status"] == "submitted" and p["amount"] == "320.00" and p["provider"] == "manual"
    assert p["target"] == {"kind": "bill", "id": bill["id"]}
    r = api.post(
        f"/businesses/{t['bid']}/payments/{p['id']}/mark-paid",
        {"reference": "BANK-1"},
        token=t["bookkeeper"],
    )
    assert r.status_code == 200 and r.get_json()["status"] == "succeeded", r.get_json()
    assert Bill.get_by_id(bill["id"]).status == "paid"
    entry = Entry.get_by_id(r.get_json()["entry"])
    assert entry.source == "contract"
    # Marked paid twice: refused, one entry.
    again = api.post(
        f"/businesses/{t['bid']}/payments/{p['id']}/mark-paid",
        {"reference": "BANK-1"},
        token=t["bookkeeper"],
    )
    assert again.status_code in (200, 409)
    assert Entry.select().where(Entry.source == "contract").count() == 1
    # The run's leaf names the triggering leaf's hash and the version hash.
    [run] = leaves(t["bid"], "contract.run")
    due = ChainLeaf.get(
        (ChainLeaf.business_id == t["bid"]) & (ChainLeaf.idx == run["content"]["trigger"]["leaf"])
    )
    from chain.hashing import leaf_hash

    assert run["content"]["trigger"]["hash"] == leaf_hash(due.data.encode()).hex()
    assert run["content"]["version_hash"] == d["deployed_hash"]
    assert run["content"]["decision"] == "fired"
    kinds = [x["type"] for x in leaves_all(t["bid"]) if x["type"].startswith("payment.")]
    assert kinds == ["payment.created", "payment.submitted", "payment.succeeded"]
    verify_clean(app)


def c_hash(c: dict) -> str:
    return ContractVersion.get(
        (ContractVersion.contract == c["id"]) & (ContractVersion.version == 1)
    ).hash


def t_owner_id(t: dict) -> int:
    from app.models import Membership

    return Membership.get((Membership.business == t["bid"]) & (Membership.role == "owner")).user_id


def leaves_all(bid: int) -> list[dict]:
    q = ChainLeaf.select().where(ChainLeaf.business_id == bid).order_by(ChainLeaf.idx)
    return [json.loads(x.data) for x in q]


def test_same_event_twice_pays_once(api: Api, t: dict) -> None:
    c = create(api, t, pay_bill_doc()).get_json()
    deploy(api, t, c["id"])
    add_bill(api, t, "100.00")
    assert process(api, t) == 1
    due = ChainLeaf.get((ChainLeaf.business_id == t["bid"]) & (ChainLeaf.type == "bill.due"))
    # Deliver the same leaf again, twice, and run the whole log again from the start.
    assert engine.process_leaf(t["bid"], due.idx) == []
    assert engine.process_leaf(t["bid"], due.idx) == []
    from app.models import ContractCursor

    ContractCursor.update(next_leaf=0).execute()
    assert process(api, t) == 0
    assert Payment.select().count() == 1 and ContractRun.select().count() == 1


def test_approval_threshold_and_limits(api: Api, t: dict) -> None:
    c = create(api, t, pay_bill_doc(limit="1000.00", above="500.00")).get_json()
    deploy(api, t, c["id"])
    add_bill(api, t, "800.00")  # above 500: the owner must approve
    add_bill(api, t, "1200.00")  # above the per-run limit: refused
    assert process(api, t) == 2
    runs = {r["decision"] for r in ContractRun.select().dicts()}
    assert runs == {"fired", "refused"}
    [p] = api.get(
        f"/businesses/{t['bid']}/payments",
        query={"status": "awaiting_approval"},
        token=t["owner"],
    ).get_json()["items"]
    assert p["amount"] == "800.00" and p["approval_roles"] == ["owner"]
    # A bookkeeper is not one of the roles it needs; nothing changes.
    r = api.post(f"/businesses/{t['bid']}/payments/{p['id']}/approve", {}, token=t["bookkeeper"])
    assert r.status_code == 403
    assert Payment.get_by_id(p["id"]).status == "awaiting_approval"
    r = api.post(f"/businesses/{t['bid']}/payments/{p['id']}/approve", {}, token=t["owner"])
    assert r.status_code == 200 and r.get_json()["status"] == "submitted", r.get_json()
    refused = ContractRun.get(ContractRun.decision == "refused")
    assert "per-run limit" in refused.reason
    assert Payment.select().count() == 1


def test_allow_list_and_daily_limit(api: Api, t: dict) -> None:
    doc = pay_bill_doc(limit="1000.00", above="999.00")
    doc["limits"] = {"per_day": "150.00", "payees": ["sup:haowei"]}
    c = create(api, t, doc).get_json()
    deploy(api, t, c["id"])
    add_bill(api, t, "100.00")
    add_bill(api, t, "100.00")  # same day: over 150.00
    process(api, t)
    decisions = [r.decision for r in ContractRun.select().order_by(ContractRun.id)]
    assert decisions == ["fired", "refused"]
    doc["limits"] = {"payees": ["someone-else"]}
    r = api.post(f"/businesses/{t['bid']}/contracts/{c['id']}", {"document": doc}, token=t["owner"])
    assert r.status_code == 200 and r.get_json()["latest_version"] == 2
    deploy(api, t, c["id"])
    add_bill(api, t, "10.00")
    process(api, t)
    last = ContractRun.select().order_by(ContractRun.id.desc()).first()
    assert last.decision == "refused" and "allow-list" in last.reason


def test_disabled_contract_does_not_fire(api: Api, t: dict, app) -> None:  # type: ignore[no-untyped-def]
    c = create(api, t, pay_bill_doc()).get_json()
    deploy(api, t, c["id"])
    r = api.post(f"/businesses/{t['bid']}/contracts/{c['id']}/disable", {}, token=t["owner"])
    assert r.status_code == 200 and not r.get_json()["enabled"]
    add_bill(api, t, "100.00")
    assert process(api, t) == 0
    assert Payment.select().count() == 0
    # Re-enabled later: the event that arrived while it was off does not fire it.
    r = api.post(f"/businesses/{t['bid']}/contracts/{c['id']}/enable", {}, token=t["owner"])
    assert r.status_code == 200
    assert process(api, t) == 0
    kinds = [x["type"] for x in leaves_all(t["bid"]) if x["type"].startswith("contract.")]
    assert kinds == [
        "contract.versioned",
        "contract.deployed",
        "contract.disabled",
        "contract.enabled",
    ]
    verify_clean(app)


def test_only_owners_deploy_and_bad_documents_are_refused(api: Api, t: dict) -> None:
    c = create(api, t, pay_bill_doc(), who="bookkeeper")
    assert c.status_code == 201
    r = api.post(
        f"/businesses/{t['bid']}/contracts/{c.get_json()['id']}/deploy", {}, token=t["bookkeeper"]
    )
    assert r.status_code == 403
    assert create(api, t, pay_bill_doc(), who="employee").status_code == 403
    before = (Contract.select().count(), ChainLeaf.select().count())
    bad = [
        {**pay_bill_doc(), "condition": {"method": ["x", "upper"]}},
        {**pay_bill_doc(), "condition": {">": [{"var": "event.amount"}, 1.5]}},
        {**pay_bill_doc(), "limits": {"per_run": 100}},
        {**pay_bill_doc(), "trigger": {"event": "anything"}},
        {**pay_bill_doc(), "extra": 1},
    ]
    for doc in bad:
        r = create(api, t, doc)
        assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid_contract", doc
    assert (Contract.select().count(), ChainLeaf.select().count()) == before


def test_receivable_settled_when_payment_arrives(api: Api, t: dict, app) -> None:  # type: ignore[no-untyped-def]
    doc = {
        "name": "收款核销",
        "trigger": {"event": "payment.received"},
        "condition": {"!!": {"var": "event.reference"}},
        "actions": [
            {
                "type": "settle",
                "kind": "receivable",
                "reference": {"var": "event.reference"},
                "to_account": "1002",
            },
        ],
    }
    c = create(api, t, doc).get_json()
    deploy(api, t, c["id"])
    r = api.post(
        f"/businesses/{t['bid']}/receivables",
        {"customer": "王先生", "amount": "88.00", "reference": "INV-7"},
        token=t["bookkeeper"],
    )
    assert r.status_code == 201
    r = api.post(
        f"/businesses/{t['bid']}/payments/received",
        {"amount": "88.00", "reference": "INV-7", "payer": "王先生"},
        token=t["bookkeeper"],
    )
    assert r.status_code == 201
    assert process(api, t) == 1
    rec = Receivable.get(Receivable.reference == "INV-7")
    assert rec.status == "settled" and rec.entry_id is not None
    verify_clean(app)


def test_reserve_share_of_income_and_dry_run_writes_nothing(api: Api, t: dict) -> None:
    r = api.post(
        f"/businesses/{t['bid']}/accounts",
        {"parent": "1012", "name": "税款备付"},
        token=t["owner"],
    )
    assert r.status_code == 201, r.get_json()
    reserve = r.get_json()["code"]
    doc = {
        "name": "收入留税",
        "trigger": {"event": "entry.posted"},
        "condition": {"in": ["5001", {"var": "event.accounts"}]},
        "actions": [
            {
                "type": "reserve",
                "percent": "12.5",
                "of": {"var": "event.amount"},
                "from_account": "1002",
                "to_account": reserve,
            },
        ],
    }
    c = create(api, t, doc).get_json()
    lines = [{"account": "1002", "debit": "100.01"}, {"account": "5001", "credit": "100.01"}]
    r = api.post(
        f"/businesses/{t['bid']}/entries", {"date": "2026-03-01", "lines": lines}, token=t["owner"]
    )
    assert r.status_code == 201, r.get_json()
    # Dry-run the undeployed version: shows the reserve, writes nothing.
    tables = (Entry, Payment, ContractRun, ChainLeaf, Contract, ContractVersion)
    before = [m.select().count() for m in tables]
    r = api.post(
        f"/businesses/{t['bid']}/contracts/{c['id']}/dry-run",
        {"version": 1, "months": 3},
        token=t["owner"],
    )
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["fired"] == 1
    assert out["results"][0]["actions"][0]["amount"] == "12.50"  # 12.50125 -> 12.50
    assert [m.select().count() for m in tables] == before
    deploy(api, t, c["id"])
    r = api.post(
        f"/businesses/{t['bid']}/entries", {"date": "2026-03-02", "lines": lines}, token=t["owner"]
    )
    assert process(api, t) == 1  # the earlier entry was before deployment; its own entry is not
    assert process(api, t) == 0
    e = Entry.get(Entry.source == "contract")
    assert e.memo == "收入留税"


class FlakyProvider:
    """Fails the first `failures` submissions, then succeeds; counts real payouts by out_no."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.paid: dict[str, int] = {}

    def submit(self, payment: Payment) -> providers.Submitted:
        if self.failures > 0:
            self.failures -= 1
            raise providers.ProviderError("upstream timeout")
        self.paid[payment.out_no] = self.paid.get(payment.out_no, 0) + 1
        return providers.Submitted("succeeded", f"ref-{payment.out_no}")


def test_provider_failure_retry_exactly_one_success(
    api: Api, t: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = FlakyProvider(failures=2)
    monkeypatch.setitem(providers.PROVIDERS, "flaky", flaky)
    monkeypatch.setattr("app.contracts.document.METHODS", ("manual", "wechatpay", "flaky"))
    doc = pay_bill_doc(above="999.00")
    doc["actions"][0]["method"] = "flaky"
    c = create(api, t, doc).get_json()
    deploy(api, t, c["id"])
    add_bill(api, t, "50.00")
    process(api, t)
    p = Payment.get()
    assert p.status == "created" and p.attempts == 1 and p.next_attempt_at is not None
    import datetime as dt

    from app.clock import utcnow

    # Not due yet: the scheduler's job does nothing.
    assert payments.retry_due(utcnow()) == 0
    later = utcnow() + dt.timedelta(days=1)
    assert payments.retry_due(later) == 1  # second failure
    assert payments.retry_due(later + dt.timedelta(days=1)) == 1  # success
    assert payments.retry_due(later + dt.timedelta(days=2)) == 0
    p = Payment.get()
    assert p.status == "succeeded" and p.attempts == 3
    assert flaky.paid == {p.out_no: 1}
    # A late duplicate success (a callback racing a retry) changes nothing.
    assert payments.succeed(t["bid"], p.id, None, "dup") is False
    assert Entry.select().where(Entry.source == "contract").count() == 1
    retries = leaves(t["bid"], "payment.retry")
    assert [x["content"]["attempt"] for x in retries] == [1, 2]


def test_schedule_pays_rent_once_per_month(api: Api, t: dict) -> None:
    import datetime as dt

    doc = {
        "name": "房租",
        "trigger": {"schedule": {"every": "month", "day": 5}},
        "actions": [
            {
                "type": "pay",
                "payee": "landlord:li",
                "amount": 300_000,
                "from_account": "1002",
                "to_account": "560204",
                "memo": "房租",
            },
        ],
        "limits": {"per_run": "3000.00"},
    }
    c = create(api, t, doc).get_json()
    deploy(api, t, c["id"])
    assert engine.tick(t["bid"], dt.date(2026, 3, 4)) == 0
    assert engine.tick(t["bid"], dt.date(2026, 3, 5)) == 1
    assert engine.tick(t["bid"], dt.date(2026, 3, 20)) == 0
    assert engine.tick(t["bid"], dt.date(2026, 4, 5)) == 1
    assert Payment.select().count() == 2


def test_run_history_lists_runs(api: Api, t: dict) -> None:
    c = create(api, t, pay_bill_doc()).get_json()
    deploy(api, t, c["id"])
    add_bill(api, t, "1.00")
    process(api, t)
    r = api.get(f"/businesses/{t['bid']}/contracts/runs", token=t["viewer"])
    assert r.status_code == 200
    [run] = r.get_json()["items"]
    assert run["decision"] == "fired" and run["leaf"] is not None
    assert run["trigger"]["type"] == "bill.due"
    listed = api.get(f"/businesses/{t['bid']}/contracts", token=t["viewer"]).get_json()["items"]
    assert listed[0]["priority"] == 100
    assert db.obj is not None


def test_scheduler_job_runs_the_engine(api: Api, t: dict, app) -> None:  # type: ignore[no-untyped-def]
    from app.contracts.jobs import contracts_job

    c = create(api, t, pay_bill_doc()).get_json()
    deploy(api, t, c["id"])
    add_bill(api, t, "12.00")
    assert contracts_job(app) == 1
    assert contracts_job(app) == 0
    assert Payment.get().status == "submitted"


def test_versions_are_immutable_in_the_database(api: Api, t: dict) -> None:
    c = create(api, t, pay_bill_doc()).get_json()
    v = ContractVersion.get(ContractVersion.contract == c["id"])
    with pytest.raises(Exception, match="immutable"), db.atomic():
        ContractVersion.update(document="{}").where(ContractVersion.id == v.id).execute()
    assert ContractVersion.get_by_id(v.id).document == v.document


def test_accounts_checked_against_the_chart_on_save_and_deploy(api: Api, t: dict) -> None:
    """A contract naming an account payments cannot post to is refused before it can pay."""
    before = ChainLeaf.select().count()
    for code, want in (("9999", "unknown_account"), ("5602", "account_not_leaf")):
        doc = pay_bill_doc()
        doc["actions"][0]["to_account"] = code
        r = create(api, t, doc)
        assert r.status_code == 422, r.get_json()
        err = r.get_json()["error"]
        assert err["code"] == want and err["details"]["path"] == "actions[0].to_account"
    assert Contract.select().count() == 0 and ChainLeaf.select().count() == before
    # Saved while 1002 took postings; then the bank account got sub-accounts: deploy refuses.
    c = create(api, t, pay_bill_doc()).get_json()
    r = api.post(
        f"/businesses/{t['bid']}/accounts",
        {"parent": "1002", "name": "招商银行 8888"},
        token=t["owner"],
    )
    assert r.status_code == 201, r.get_json()
    r = api.post(f"/businesses/{t['bid']}/contracts/{c['id']}/deploy", {}, token=t["owner"])
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "account_not_leaf"
    assert Contract.get_by_id(c["id"]).deployed_version is None


def test_contract_disabled_after_it_was_picked_does_not_fire(api: Api, t: dict) -> None:
    """The engine lists a contract, then the owner disables it before the run is recorded:
    re-checked under the business lock, it does not fire."""
    import datetime as dt

    c = create(api, t, pay_bill_doc()).get_json()
    deploy(api, t, c["id"])
    add_bill(api, t, "12.00")
    picked = Contract.get_by_id(c["id"])
    r = api.post(f"/businesses/{t['bid']}/contracts/{c['id']}/disable", {}, token=t["owner"])
    assert r.status_code == 200, r.get_json()
    from app.chain_store import next_leaf_index
    from app.payments import books

    books.announce_due_bills(t["bid"], dt.date(2026, 1, 1))
    leaf = ChainLeaf.get(
        (ChainLeaf.business_id == t["bid"]) & (ChainLeaf.idx == next_leaf_index(t["bid"]) - 1)
    )
    assert leaf.type == "bill.due"
    content = json.loads(leaf.data)["content"]
    assert engine._run_one(picked, leaf, content, dt.date(2026, 1, 1)) is None
    assert ContractRun.select().count() == 0 and Payment.select().count() == 0
