"""Auto-reimbursement: a claim.approved event pays the employee through the claims service's
own reimbursement (one posting, the claim marked paid), under a limit, once."""

from __future__ import annotations

import pytest

from app.contracts import engine
from app.models import ChainLeaf, Claim, ContractRun, Payment
from tests.claims_helpers import team, upload
from tests.conftest import Api
from tests.receipt_images import SAMPLES, phone_photo


@pytest.fixture
def t(api: Api) -> dict:
    return team(api)


def approved_claim(
    api: Api, t: dict, amount: str, seed: int, sample: str = "electronic_ordinary"
) -> int:
    photo = phone_photo(SAMPLES[sample], size=(1600, 1200), seed=seed)
    r = upload(api, t["bid"], photo, t["employee"])
    assert r.status_code == 201, r.get_json()
    body = {
        "category": "office",
        "amount": amount,
        "receipts": [r.get_json()["id"]],
        "submit": True,
    }
    r = api.post(f"/businesses/{t['bid']}/claims", body, token=t["employee"])
    assert r.status_code == 201, r.get_json()
    cid = r.get_json()["id"]
    r = api.post(f"/businesses/{t['bid']}/claims/{cid}/approve", {}, token=t["owner"])
    assert r.status_code == 200, r.get_json()
    return cid


DOC = {
    "name": "自动报销",
    "priority": 10,
    "trigger": {"event": "claim.approved"},
    "condition": {"<=": [{"var": "event.amount"}, 20_000]},
    "actions": [
        {
            "type": "pay",
            "payee": {"var": "event.payee"},
            "amount": {"var": "event.amount"},
            "from_account": "1002",
            "to_account": "2241",
            "target": "claim",
            "memo": "自动报销",
        }
    ],
    "limits": {"per_run": "200.00"},
}


def test_auto_reimburse_approved_claim(api: Api, t: dict, app) -> None:  # type: ignore[no-untyped-def]
    r = api.post(f"/businesses/{t['bid']}/contracts", {"document": DOC}, token=t["owner"])
    assert r.status_code == 201, r.get_json()
    cid = r.get_json()["id"]
    assert (
        api.post(f"/businesses/{t['bid']}/contracts/{cid}/deploy", {}, token=t["owner"]).status_code
        == 200
    )
    claim_id = approved_claim(api, t, "64.90", seed=1)
    assert engine.tick(t["bid"]) == 1
    p = Payment.get()
    assert p.target_kind == "claim" and p.target_id == claim_id and p.amount == 6490
    assert p.payee.startswith("user:") and p.status == "submitted"
    r = api.post(
        f"/businesses/{t['bid']}/payments/{p.id}/mark-paid",
        {"reference": "WX-1"},
        token=t["bookkeeper"],
    )
    assert r.status_code == 200, r.get_json()
    claim = Claim.get_by_id(claim_id)
    assert claim.status == "paid" and r.get_json()["entry"] == claim.payment_entry_id
    # The same approval delivered again does nothing; a second contract conflicts politely.
    leaf = ChainLeaf.get(ChainLeaf.type == "claim.approved")
    assert engine.process_leaf(t["bid"], leaf.idx) == []
    assert ContractRun.select().count() == 1
    result = app.test_cli_runner().invoke(args=["chain", "verify", "--quiet"])
    assert result.exit_code == 0, result.output


def test_claim_above_condition_is_skipped(api: Api, t: dict) -> None:
    r = api.post(f"/businesses/{t['bid']}/contracts", {"document": DOC}, token=t["owner"])
    cid = r.get_json()["id"]
    api.post(f"/businesses/{t['bid']}/contracts/{cid}/deploy", {}, token=t["owner"])
    approved_claim(api, t, "350.00", seed=2)
    assert engine.tick(t["bid"]) == 1
    assert ContractRun.get().decision == "skipped" and Payment.select().count() == 0
