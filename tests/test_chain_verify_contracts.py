"""`flask chain verify` replays contracts, runs and payments against their tables: a business
with contracts deployed, edited, switched off and on, runs of every decision and payments in
every state verifies clean, and each change made behind the API is found and located."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask import Flask

from app.clock import utcnow
from app.contracts import engine
from app.db import db
from app.events import LedgerEvent
from app.payments import providers
from app.payments import service as payments
from app.services import chain
from chain.hashing import leaf_hash
from tests.chain_helpers import FAST_KEYS, behind_the_api, seal, sql
from tests.claims_helpers import team
from tests.conftest import Api
from tests.test_chain_tamper import first_problem
from tests.test_contracts_claims import DOC as REIMBURSE_DOC
from tests.test_contracts_claims import approved_claim


@pytest.fixture
def app(app_factory) -> Flask:  # type: ignore[no-untyped-def]
    return app_factory(**FAST_KEYS)


def pay_bills(per_run: str) -> dict[str, Any]:
    return {
        "name": "到期付供应商",
        "trigger": {"event": "bill.due"},
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
            {"type": "require_approval", "roles": ["owner"], "above": "500.00"},
        ],
        "limits": {"per_run": per_run},
    }


RENT = {
    "name": "房租",
    "priority": 20,
    "trigger": {"schedule": {"every": "month", "day": 5}},
    "actions": [
        {
            "type": "pay",
            "payee": "landlord:li",
            "amount": 300_000,
            "from_account": "1002",
            "to_account": "560204",
            "method": "flaky",
        }
    ],
}

SETTLE = {
    "name": "收款核销",
    "trigger": {"event": "payment.received"},
    "actions": [
        {
            "type": "settle",
            "kind": "receivable",
            "reference": {"var": "event.reference"},
            "to_account": "1002",
        }
    ],
}


class Flaky:
    """The first submission is a transient error, the second refused, later ones succeed."""

    name = "flaky"

    def __init__(self) -> None:
        self.calls = 0

    def submit(self, payment: Any) -> providers.Submitted:
        self.calls += 1
        if self.calls == 1:
            raise providers.ProviderError("upstream timeout")
        if self.calls == 2:
            raise providers.ProviderRefused("payee account closed")
        return providers.Submitted("succeeded", f"ref-{payment.out_no}")


def ok(r: Any, status: int = 200) -> dict:
    assert r.status_code == status, r.get_json()
    return r.get_json()


@pytest.fixture
def deals(app: Flask, api: Api, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Contracts through their whole lifecycle and payments in every state, sealed."""
    monkeypatch.setitem(providers.PROVIDERS, "flaky", Flaky())
    monkeypatch.setattr("app.contracts.document.METHODS", ("manual", "wechatpay", "flaky"))
    t = team(api)
    bid, owner, bk = t["bid"], t["owner"], t["bookkeeper"]
    base = f"/businesses/{bid}"

    def create(doc: dict) -> int:
        return ok(api.post(f"{base}/contracts", {"document": doc}, token=owner), 201)["id"]

    def do(path: str, body: dict | None = None, token: str = owner) -> dict:
        return ok(api.post(f"{base}{path}", body or {}, token=token))

    def bill(amount: str) -> int:
        body = {"supplier": "好味食品", "payee": "sup:haowei", "amount": amount}
        b = ok(api.post(f"{base}/bills", {**body, "due_date": "2020-01-01"}, token=bk), 201)
        do(f"/bills/{b['id']}/approve")
        return b["id"]

    # Bills: version 1 deployed, edited to version 2, deployed, switched off and on again.
    bills = create(pay_bills("1000.00"))
    do(f"/contracts/{bills}/deploy")
    ok(api.post(f"{base}/contracts/{bills}", {"document": pay_bills("2000.00")}, token=owner))
    do(f"/contracts/{bills}/deploy")
    do(f"/contracts/{bills}/disable")
    do(f"/contracts/{bills}/enable")
    reimburse = create(REIMBURSE_DOC)
    do(f"/contracts/{reimburse}/deploy")
    settle = create(SETTLE)
    do(f"/contracts/{settle}/deploy")

    amounts = {"paid": "100.00", "approved": "800.00", "rejected": "700.00"}
    amounts |= {"refused": "2500.00", "submitted": "50.00", "waiting": "600.00"}
    bill_ids = {k: bill(v) for k, v in amounts.items()}
    claim = approved_claim(api, t, "64.90", seed=3)
    ok(api.post(f"{base}/receivables", {"customer": "王先生", "amount": "88.00", "reference": "INV-7"}, token=bk), 201)  # fmt: skip
    ok(api.post(f"{base}/payments/received", {"amount": "88.00", "reference": "INV-7", "payer": "王先生"}, token=bk), 201)  # fmt: skip
    assert do("/contracts/process")["runs"] == 8

    with app.app_context(), db.connection_context():
        by_bill = dict(sql("SELECT target_id, id FROM payment WHERE target_kind = 'bill'"))
        pays = {k: by_bill[b] for k, b in bill_ids.items() if b in by_bill}
        [(pays["claim"],)] = sql("SELECT id FROM payment WHERE target_kind = 'claim'")
    do(f"/payments/{pays['paid']}/mark-paid", {"reference": "BANK-1"}, bk)
    do(f"/payments/{pays['claim']}/mark-paid", {"reference": "BANK-2"}, bk)
    do(f"/payments/{pays['approved']}/approve")
    do(f"/payments/{pays['approved']}/cancel", {"reason": "paid in cash"})
    do(f"/payments/{pays['rejected']}/cancel", {"reason": "wrong amount"})

    # Rent through a provider that times out, then refuses (failed), then pays (succeeded).
    rent = create(RENT)
    do(f"/contracts/{rent}/deploy")
    with app.app_context(), db.connection_context():
        assert engine.tick(bid, dt.date(2026, 3, 5)) == 1
        later = utcnow() + dt.timedelta(days=1)
        assert payments.retry_due(later) == 1
        assert engine.tick(bid, dt.date(2026, 4, 5)) == 1
        rows = sql("SELECT status, COUNT(*) FROM payment GROUP BY status")
        decisions = {d for (d,) in sql("SELECT decision FROM contract_run")}
    assert dict(rows) == {
        "succeeded": 3,
        "failed": 1,
        "cancelled": 2,
        "submitted": 1,
        "awaiting_approval": 1,
    }
    assert decisions == {"fired", "refused"}
    future = {"supplier": "纸箱厂", "payee": "sup:box", "amount": "30.00", "due_date": "2099-01-01"}
    bill_ids["future"] = ok(api.post(f"{base}/bills", future, token=bk), 201)["id"]
    api.token = owner
    seal(api, bid)
    return {
        "bid": bid,
        "t": t,
        "contracts": {"bills": bills, "reimburse": reimburse, "settle": settle, "rent": rent},
        "payments": pays,
        "bills": bill_ids,
        "claim": claim,
    }


def leaf_where(bid: int, kind: str, **content: Any) -> int:
    """The index of the last leaf of this type whose content has these values."""
    found = [
        idx
        for idx, data in sql(
            "SELECT idx, data FROM chain_leaf WHERE business_id = ? AND type = ? ORDER BY idx",
            bid,
            kind,
        )
        if all(json.loads(data)["content"].get(k) == v for k, v in content.items())
    ]
    assert found, (kind, content)
    return found[-1]


def tamper(app: Flask, *statements: tuple) -> None:
    with app.app_context(), db.connection_context(), behind_the_api():
        for statement in statements:
            sql(*statement)


def forge(app: Flask, event: LedgerEvent, *statements: tuple) -> int:
    """Append a leaf as the API would (unsealed) and change rows to match, in one transaction."""
    with app.app_context(), db.connection_context(), behind_the_api(), db.atomic():
        for statement in statements:
            sql(*statement)
        return chain.append_leaf(event)


def verify(app: Flask) -> tuple[int, str]:
    """Run `flask chain verify`; return the exit code and everything it printed."""
    result = app.test_cli_runner().invoke(args=["chain", "verify", "--quiet"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def problem(app: Flask) -> str:
    """The first problem verify reports, without its prefix."""
    code, out = verify(app)
    assert code == 1, out
    return first_problem(out).removeprefix("FIRST PROBLEM: ")


def test_a_business_with_contracts_and_payments_verifies(app: Flask, deals: dict) -> None:
    code, out = verify(app)
    assert code == 0, out
    with app.app_context(), db.connection_context():
        kinds = {k for (k,) in sql("SELECT DISTINCT type FROM chain_leaf")}
    assert {
        "contract.versioned",
        "contract.deployed",
        "contract.disabled",
        "contract.enabled",
        "contract.run",
        "schedule.due",
        "payment.created",
        "payment.awaiting_approval",
        "payment.submitted",
        "payment.succeeded",
        "payment.failed",
        "payment.cancelled",
        "payment.retry",
        "bill.created",
        "bill.due",
        "receivable.created",
        "receivable.settled",
    } <= kinds


def test_the_demo_business_verifies(app: Flask, tmp_path: Any) -> None:
    runner = app.test_cli_runner()
    made = runner.invoke(args=["demo", "create", "--logins-file", str(tmp_path / "logins.txt")])
    assert made.exit_code == 0, made.output
    code, out = verify(app)
    assert code == 0, out


def test_changed_version_document(app: Flask, deals: dict) -> None:
    bid, cid = deals["bid"], deals["contracts"]["bills"]
    tamper(
        app,
        (
            "UPDATE contract_version SET document = replace(document, '1000.00', '9000.00') "
            "WHERE contract_id = ? AND version = 1",
            cid,
        ),
    )
    with app.app_context(), db.connection_context():
        idx = leaf_where(bid, "contract.versioned", contract=cid, version=1)
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field document: contract {cid} version 1: the document "
        "in the contract_version table is not the one the log recorded (its SHA-256 is not "
        "the version's hash)"
    )


def test_contract_switched_off_behind_the_api(app: Flask, deals: dict) -> None:
    bid, cid = deals["bid"], deals["contracts"]["bills"]
    tamper(app, ("UPDATE contract SET enabled = ? WHERE id = ?", False, cid))
    with app.app_context(), db.connection_context():
        idx = leaf_where(bid, "contract.enabled", contract=cid)
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field enabled: contract {cid} differs: the contract "
        "table says False, the log says True"
    )


def test_contract_switched_on_behind_the_api(app: Flask, deals: dict) -> None:
    bid, cid, t = deals["bid"], deals["contracts"]["settle"], deals["t"]
    api = Api(app.test_client())
    ok(api.post(f"/businesses/{bid}/contracts/{cid}/disable", {}, token=t["owner"]))
    tamper(app, ("UPDATE contract SET enabled = ? WHERE id = ?", True, cid))
    with app.app_context(), db.connection_context():
        idx = leaf_where(bid, "contract.disabled", contract=cid)
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field enabled: contract {cid} differs: the contract "
        "table says True, the log says False"
    )


def test_deployed_version_changed(app: Flask, deals: dict) -> None:
    bid, cid = deals["bid"], deals["contracts"]["bills"]
    tamper(app, ("UPDATE contract SET deployed_version = 1 WHERE id = ?", cid))
    with app.app_context(), db.connection_context():
        idx = leaf_where(bid, "contract.enabled", contract=cid)
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field deployed_version: contract {cid} differs: the "
        "contract table says 1, the log says 2"
    )


def test_run_decision_changed(app: Flask, deals: dict) -> None:
    bid = deals["bid"]
    with app.app_context(), db.connection_context():
        [(rid, idx)] = sql("SELECT id, run_leaf FROM contract_run WHERE decision = 'refused'")
    tamper(app, ("UPDATE contract_run SET decision = 'fired' WHERE id = ?", rid))
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field decision: run {rid} differs: the contract_run "
        "table says 'fired', the log says 'refused'"
    )


def test_run_trigger_changed(app: Flask, deals: dict) -> None:
    """A careful attacker also puts in the other leaf's true hash: the leaf still disagrees."""
    bid = deals["bid"]
    with app.app_context(), db.connection_context():
        [(rid, idx, trigger)] = sql(
            "SELECT id, run_leaf, trigger_leaf FROM contract_run WHERE decision = 'refused'"
        )
        other = leaf_where(bid, "bill.created", bill=deals["bills"]["refused"])
        [(data,)] = sql("SELECT data FROM chain_leaf WHERE business_id = ? AND idx = ?", bid, other)
    forged = leaf_hash(data.encode()).hex()
    tamper(
        app,
        (
            "UPDATE contract_run SET trigger_leaf = ?, trigger_hash = ? WHERE id = ?",
            other,
            forged,
            rid,
        ),
    )
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field trigger.leaf: run {rid} differs: the contract_run "
        f"table says {other}, the log says {trigger}"
    )


def test_run_leaf_with_a_false_trigger_hash(app: Flask, deals: dict) -> None:
    """A run forged with its row, naming a trigger leaf it does not hash to."""
    bid, cid = deals["bid"], deals["contracts"]["bills"]
    with app.app_context(), db.connection_context():
        [(vid, vhash)] = sql(
            "SELECT id, hash FROM contract_version WHERE contract_id = ? AND version = 2", cid
        )
        trigger = leaf_where(bid, "bill.due")
        n = chain.log_size(bid)
    fake = "ab" * 32
    content = {
        "contract": cid,
        "run": 999,
        "version": 2,
        "version_hash": vhash,
        "trigger": {"leaf": trigger, "hash": fake, "type": "bill.due"},
        "decision": "skipped",
        "reason": "",
        "actions": [],
    }
    at = forge(
        app,
        LedgerEvent("contract.run", bid, None, content),
        (
            "INSERT INTO contract_run (id, business_id, contract_id, version_id, trigger_leaf, "
            "trigger_hash, event_type, decision, reason, actions, run_leaf, created_at) "
            "VALUES (999, ?, ?, ?, ?, ?, 'bill.due', 'skipped', '', '[]', ?, ?)",
            bid,
            cid,
            vid,
            trigger,
            fake,
            n,
            utcnow(),
        ),
    )
    assert at == n
    assert problem(app) == (
        f"business {bid}, leaf {n}, field trigger.hash: run 999: trigger.hash is not the hash "
        f"of leaf {trigger} recomputed from the log"
    )


def test_run_inserted_without_a_leaf(app: Flask, deals: dict) -> None:
    bid, cid = deals["bid"], deals["contracts"]["bills"]
    with app.app_context(), db.connection_context():
        [(vid,)] = sql("SELECT id FROM contract_version WHERE contract_id = ? AND version = 2", cid)
    tamper(
        app,
        (
            "INSERT INTO contract_run (id, business_id, contract_id, version_id, trigger_leaf, "
            "trigger_hash, event_type, decision, reason, actions, run_leaf, created_at) "
            "VALUES (777, ?, ?, ?, 3, ?, 'bill.due', 'fired', '', '[]', NULL, ?)",
            bid,
            cid,
            vid,
            "cd" * 32,
            utcnow(),
        ),
    )
    assert (
        problem(app)
        == f"business {bid}: contract_run 777 (contract {cid}) has no contract.run leaf"
    )


@pytest.mark.parametrize(
    ("column", "value", "shown", "was"),
    [("amount", 1, "'0.01'", "'100.00'"), ("payee", "thief", "'thief'", "'sup:haowei'")],
)
def test_payment_amount_or_payee_changed(
    app: Flask, deals: dict, column: str, value: Any, shown: str, was: str
) -> None:
    bid, pid = deals["bid"], deals["payments"]["paid"]
    tamper(app, (f"UPDATE payment SET {column} = ? WHERE id = ?", value, pid))
    with app.app_context(), db.connection_context():
        idx = leaf_where(bid, "payment.created", payment=pid)
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field {column}: payment {pid} differs: the payment table "
        f"says {shown}, the log says {was}"
    )


def test_payment_marked_succeeded_behind_the_api(app: Flask, deals: dict) -> None:
    bid, pid = deals["bid"], deals["payments"]["submitted"]
    tamper(app, ("UPDATE payment SET status = 'succeeded' WHERE id = ?", pid))
    with app.app_context(), db.connection_context():
        idx = leaf_where(bid, "payment.submitted", payment=pid)
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field status: payment {pid} differs: the payment table "
        "says 'succeeded', the log says 'submitted'"
    )


def test_cancelled_payment_forged_as_succeeded_on_the_chain_too(app: Flask, deals: dict) -> None:
    """The row and a matching unsealed leaf: the state machine refuses the transition."""
    bid, pid = deals["bid"], deals["payments"]["rejected"]
    content = {
        "payment": pid,
        "from": "cancelled",
        "amount": "700.00",
        "payee": "sup:haowei",
        "provider": "manual",
        "reference": "X",
        "entry": None,
    }
    with app.app_context(), db.connection_context():
        [(out_no,)] = sql("SELECT out_no FROM payment WHERE id = ?", pid)
    n = forge(
        app,
        LedgerEvent("payment.succeeded", bid, None, {**content, "out_no": out_no}),
        ("UPDATE payment SET status = 'succeeded', provider_ref = 'X' WHERE id = ?", pid),
    )
    assert (
        problem(app)
        == f"business {bid}, leaf {n}: payment {pid} cannot go from cancelled to succeeded"
    )


def test_payment_inserted_without_leaves(app: Flask, deals: dict) -> None:
    bid = deals["bid"]
    tamper(
        app,
        (
            "INSERT INTO payment (id, business_id, out_no, provider, payee, payee_name, amount, "
            "from_account, to_account, memo, target_kind, status, approval_roles, attempts, "
            "provider_ref, last_error, confirm_package, business_date, created_at, updated_at) "
            "VALUES (555, ?, 'SPX-ghost', 'manual', 'thief', '', 99900, '1002', '2202', '', '', "
            "'succeeded', '', 1, '', '', '', '2026-03-01', ?, ?)",
            bid,
            utcnow(),
            utcnow(),
        ),
    )
    assert problem(app) == (
        f"business {bid}: payment 555 (succeeded) exists with no payment.created leaf"
    )


def test_bill_amount_changed(app: Flask, deals: dict) -> None:
    bid, bill = deals["bid"], deals["bills"]["waiting"]
    tamper(app, ("UPDATE bill SET amount = 60 WHERE id = ?", bill))
    with app.app_context(), db.connection_context():
        idx = leaf_where(bid, "bill.created", bill=bill)
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field amount: bill {bill} differs: the bill table says "
        "'0.60', the log says '600.00'"
    )


def test_contract_priority_changed(app: Flask, deals: dict) -> None:
    """Priority decides which contract pays a bill first; it changes only by deploying."""
    bid, cid = deals["bid"], deals["contracts"]["rent"]
    tamper(app, ("UPDATE contract SET priority = 1 WHERE id = ?", cid))
    with app.app_context(), db.connection_context():
        idx = leaf_where(bid, "contract.deployed", contract=cid)
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field priority: contract {cid} differs: the contract "
        "table says 1, the log says 20"
    )


def test_succeeded_payment_pointed_at_another_entry(app: Flask, deals: dict) -> None:
    bid, pid = deals["bid"], deals["payments"]["paid"]
    with app.app_context(), db.connection_context():
        [(entry,)] = sql("SELECT entry_id FROM payment WHERE id = ?", pid)
        [(other,)] = sql("SELECT MIN(id) FROM entry WHERE business_id = ?", bid)
        idx = leaf_where(bid, "payment.succeeded", payment=pid)
    tamper(app, ("UPDATE payment SET entry_id = ? WHERE id = ?", other, pid))
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field entry: payment {pid} differs: the payment table "
        f"says {other}, the log says {entry}"
    )


def test_settled_receivable_reopened(app: Flask, deals: dict) -> None:
    bid = deals["bid"]
    with app.app_context(), db.connection_context():
        [(rid,)] = sql("SELECT id FROM receivable WHERE business_id = ?", bid)
        idx = leaf_where(bid, "receivable.settled", receivable=rid)
    tamper(app, ("UPDATE receivable SET status = 'open', entry_id = NULL WHERE id = ?", rid))
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field status: receivable {rid} differs: the receivable "
        "table says 'open', the log says 'settled'"
    )


def test_announced_bill_payee_changed(app: Flask, deals: dict) -> None:
    """The bill waiting for approval would be paid to whoever its row names."""
    bid, bill = deals["bid"], deals["bills"]["waiting"]
    tamper(app, ("UPDATE bill SET payee = 'thief' WHERE id = ?", bill))
    with app.app_context(), db.connection_context():
        created = leaf_where(bid, "bill.created", bill=bill)
        due = leaf_where(bid, "bill.due", bill=bill)
    code, out = verify(app)
    assert code == 1
    for idx in (created, due):
        assert (
            f"business {bid}, leaf {idx}, field payee: bill {bill} differs: the bill table says "
            "'thief', the log says 'sup:haowei'"
        ) in out


def test_bill_payee_changed_before_it_is_due(app: Flask, deals: dict) -> None:
    """Before the due day only bill.created names the payee; it is enough to catch a swap."""
    bid = deals["bid"]
    with app.app_context(), db.connection_context():
        bill = deals["bills"]["future"]
        [(payee, announced)] = sql("SELECT payee, due_announced FROM bill WHERE id = ?", bill)
        assert announced is None
        idx = leaf_where(bid, "bill.created", bill=bill)
    tamper(app, ("UPDATE bill SET payee = 'thief' WHERE id = ?", bill))
    assert problem(app) == (
        f"business {bid}, leaf {idx}, field payee: bill {bill} differs: the bill table says "
        f"'thief', the log says {payee!r}"
    )


def test_run_of_a_disabled_contract(app: Flask, api: Api, deals: dict) -> None:
    """A run recorded after the owner switched the contract off (the engine re-checks under the
    business lock, so only a forgery can do this), with a true trigger hash and a matching row."""
    bid, cid = deals["bid"], deals["contracts"]["bills"]
    r = api.post(f"/businesses/{bid}/contracts/{cid}/disable", {}, token=deals["t"]["owner"])
    assert r.status_code == 200, r.get_json()
    with app.app_context(), db.connection_context():
        [(vid, vhash)] = sql(
            "SELECT id, hash FROM contract_version WHERE contract_id = ? AND version = 2", cid
        )
        trigger = leaf_where(bid, "receivable.created")  # one v2 has not run on
        [(data,)] = sql(
            "SELECT data FROM chain_leaf WHERE business_id = ? AND idx = ?", bid, trigger
        )
        n = chain.log_size(bid)
    true_hash = leaf_hash(data.encode()).hex()
    content = {
        "contract": cid,
        "run": 999,
        "version": 2,
        "version_hash": vhash,
        "trigger": {"leaf": trigger, "hash": true_hash, "type": "receivable.created"},
        "decision": "skipped",
        "reason": "",
        "actions": [],
    }
    forge(
        app,
        LedgerEvent("contract.run", bid, None, content),
        (
            "INSERT INTO contract_run (id, business_id, contract_id, version_id, trigger_leaf, "
            "trigger_hash, event_type, decision, reason, actions, run_leaf, created_at) "
            "VALUES (999, ?, ?, ?, ?, ?, 'receivable.created', 'skipped', '', '[]', ?, ?)",
            bid,
            cid,
            vid,
            trigger,
            true_hash,
            n,
            utcnow(),
        ),
    )
    assert problem(app) == (
        f"business {bid}, leaf {n}: run 999 runs contract {cid} version 2, but the log has it "
        "at version 2 off"
    )
