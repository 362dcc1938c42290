"""Claims end to end through the API: file -> submit -> approve (posted) -> reimburse (paid),
with roles enforced, two-step approval over the limit, input VAT, policy flags, and the chain."""

from __future__ import annotations

import json

import pytest

from app.models import Account, ChainLeaf, Claim, Entry, EntryInvoice
from tests.claims_helpers import team, upload
from tests.conftest import Api
from tests.receipt_images import SAMPLES, phone_photo


def receipt(api: Api, t: dict, text: str | None, who: str = "employee", seed: int = 0) -> int:
    r = upload(api, t["bid"], phone_photo(text, size=(1600, 1200), seed=seed), t[who])
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def file_claim(
    api: Api, t: dict, rids: list[int], amount: str, who: str = "employee", **kw
) -> dict:
    body = {"category": "office", "amount": amount, "receipts": rids, "submit": True, **kw}
    r = api.post(f"/businesses/{t['bid']}/claims", body, token=t[who])
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def lines_of(api: Api, t: dict, entry_id: int) -> list[tuple[str, str, str]]:
    e = api.get(f"/businesses/{t['bid']}/entries/{entry_id}", token=t["owner"]).get_json()
    return [(ln["account"], ln["debit"], ln["credit"]) for ln in e["lines"]]


@pytest.fixture
def t(api: Api) -> dict:
    return team(api)


def test_claim_approve_post_reimburse(api: Api, t: dict, app) -> None:  # type: ignore[no-untyped-def]
    rid = receipt(api, t, SAMPLES["electronic_ordinary"])
    c = file_claim(api, t, [rid], "64.90", memo="打印纸")
    assert c["status"] == "submitted" and c["no_qr"] is False
    # The approver's queue and badge.
    q = api.get(f"/businesses/{t['bid']}/claims", token=t["bookkeeper"], query={"awaiting": "true"})
    assert [x["id"] for x in q.get_json()["items"]] == [c["id"]] and q.get_json()[
        "awaiting_me"
    ] == 1
    # Roles: an employee cannot approve; a viewer cannot file.
    r = api.post(f"/businesses/{t['bid']}/claims/{c['id']}/approve", {}, token=t["employee"])
    assert r.status_code == 403
    r = api.post(f"/businesses/{t['bid']}/claims/{c['id']}/submit", {}, token=t["viewer"])
    assert r.status_code == 403
    entries_before = Entry.select().count()
    ok = api.post(f"/businesses/{t['bid']}/claims/{c['id']}/approve", {}, token=t["bookkeeper"])
    assert ok.status_code == 200, ok.get_json()
    approved = ok.get_json()
    assert approved["status"] == "approved" and Entry.select().count() == entries_before + 1
    payable = Account.get(Account.parent_code == "2241", Account.name == "emma")
    assert lines_of(api, t, approved["entry_id"]) == [
        ("560201", "64.90", "0.00"),
        (payable.code, "0.00", "64.90"),
    ]
    # The invoice reference is on the posted entry (docs/tax-rules.md, entry_invoice).
    inv = EntryInvoice.get(EntryInvoice.entry == approved["entry_id"])
    assert inv.invoice_key == "011001605111-80100798" and inv.amount == 6490
    # The employee sees the status; another employee does not see the claim.
    mine = api.get(f"/businesses/{t['bid']}/claims", token=t["employee"]).get_json()["items"]
    assert [(x["id"], x["status"]) for x in mine] == [(c["id"], "approved")]
    assert (
        api.get(f"/businesses/{t['bid']}/claims/{c['id']}", token=t["employee2"]).status_code == 404
    )
    # An employee cannot pay; a bookkeeper pays by bank.
    path = f"/businesses/{t['bid']}/claims/{c['id']}/reimburse"
    assert api.post(path, {"paid_with": "bank"}, token=t["employee"]).status_code == 403
    paid = api.post(
        path, {"paid_with": "bank"}, token=t["bookkeeper"], headers={"Idempotency-Key": "pay-1"}
    )
    assert paid.status_code == 200 and paid.get_json()["status"] == "paid"
    again = api.post(
        path, {"paid_with": "bank"}, token=t["bookkeeper"], headers={"Idempotency-Key": "pay-1"}
    )
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert api.post(path, {"paid_with": "bank"}, token=t["bookkeeper"]).status_code == 409
    assert lines_of(api, t, paid.get_json()["payment_entry_id"]) == [
        (payable.code, "64.90", "0.00"),
        ("1002", "0.00", "64.90"),
    ]
    tb = api.get(f"/businesses/{t['bid']}/reports/trial-balance", token=t["owner"]).get_json()
    assert tb["total_debit"] == tb["total_credit"]
    # The chain has every step, and verify is clean.
    kinds = [leaf.type for leaf in ChainLeaf.select().order_by(ChainLeaf.idx)]
    for kind in ("receipt.added", "claim.submitted", "claim.approved", "claim.reimbursed"):
        assert kind in kinds
    submitted = json.loads(ChainLeaf.get(ChainLeaf.type == "claim.submitted").data)["content"]
    assert submitted["receipts"][0]["sha256"] == c["receipts"][0]["sha256"]
    result = app.test_cli_runner().invoke(args=["chain", "verify", "--quiet"])
    assert result.exit_code == 0, result.output
    history = api.get(f"/businesses/{t['bid']}/claims/{c['id']}", token=t["employee"]).get_json()[
        "history"
    ]
    assert [h["action"] for h in history] == ["created", "submitted", "approved", "reimbursed"]


def test_over_the_limit_needs_the_owner_as_well(api: Api, t: dict) -> None:
    r = api.post(
        f"/businesses/{t['bid']}/claim-policy", {"approval_limit": "50.00"}, token=t["owner"]
    )
    assert r.status_code == 200 and r.get_json()["approval_limit"] == "50.00"
    c = file_claim(api, t, [receipt(api, t, SAMPLES["electronic_ordinary"])], "64.90")
    path = f"/businesses/{t['bid']}/claims/{c['id']}/approve"
    first = api.post(path, {}, token=t["bookkeeper"]).get_json()
    assert first["status"] == "submitted" and first["entry_id"] is None
    assert api.post(path, {}, token=t["bookkeeper"]).get_json()["error"]["code"] == "awaiting_owner"
    owner_queue = api.get(
        f"/businesses/{t['bid']}/claims", token=t["owner"], query={"awaiting": "true"}
    )
    assert owner_queue.get_json()["awaiting_me"] == 1
    final = api.post(path, {}, token=t["owner"]).get_json()
    assert final["status"] == "approved" and final["entry_id"]


def test_bookkeeper_cannot_approve_own_claim_and_employee_cannot_edit_others(
    api: Api, t: dict
) -> None:
    c = file_claim(api, t, [receipt(api, t, None, who="bookkeeper")], "20.00", who="bookkeeper")
    r = api.post(f"/businesses/{t['bid']}/claims/{c['id']}/approve", {}, token=t["bookkeeper"])
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "own_claim"
    c2 = file_claim(api, t, [receipt(api, t, None, seed=2)], "10.00")
    r = api.post(f"/businesses/{t['bid']}/claims/{c2['id']}", {"memo": "x"}, token=t["employee2"])
    assert r.status_code == 404


def test_general_taxpayer_special_invoice_books_input_vat(api: Api) -> None:
    t = team(api, taxpayer_type="general")
    c = file_claim(api, t, [receipt(api, t, SAMPLES["special"])], "100000.00")
    ok = api.post(
        f"/businesses/{t['bid']}/claims/{c['id']}/approve", {}, token=t["owner"]
    ).get_json()
    payable = Account.get(Account.parent_code == "2241").code
    assert lines_of(api, t, ok["entry_id"]) == [
        ("560201", "94339.62", "0.00"),
        ("22210101", "5660.38", "0.00"),
        (payable, "0.00", "100000.00"),
    ]
    # 数电票 31: whether the QR amount includes tax is unconfirmed, so the approver says.
    c = file_claim(api, t, [receipt(api, t, SAMPLES["digital_special"])], "666.00")
    ok = api.post(
        f"/businesses/{t['bid']}/claims/{c['id']}/approve",
        {"tax_amount": "76.62"},
        token=t["owner"],
    ).get_json()
    assert ("22210101", "76.62", "0.00") in lines_of(api, t, ok["entry_id"])


def test_small_scale_taxpayer_cannot_book_input_vat(api: Api, t: dict) -> None:
    c = file_claim(api, t, [receipt(api, t, SAMPLES["special"])], "100000.00")
    r = api.post(
        f"/businesses/{t['bid']}/claims/{c['id']}/approve",
        {"tax_amount": "10.00"},
        token=t["owner"],
    )
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "input_vat_not_deductible"
    ok = api.post(
        f"/businesses/{t['bid']}/claims/{c['id']}/approve", {}, token=t["owner"]
    ).get_json()
    assert [ln[0] for ln in lines_of(api, t, ok["entry_id"])][0] == "560201"
    assert len(lines_of(api, t, ok["entry_id"])) == 2


def test_reject_frees_the_invoice_and_return_allows_changes(api: Api, t: dict) -> None:
    rid = receipt(api, t, SAMPLES["digital_ordinary"])
    c = file_claim(api, t, [rid], "0.01")
    base = f"/businesses/{t['bid']}/claims/{c['id']}"
    r = api.post(f"{base}/reject", {"reason": ""}, token=t["owner"])
    assert r.status_code == 422
    r = api.post(f"{base}/reject", {"reason": "私人消费"}, token=t["owner"]).get_json()
    assert r["status"] == "rejected" and r["reason"] == "私人消费"
    leaf = json.loads(ChainLeaf.get(ChainLeaf.type == "claim.rejected").data)
    assert leaf["content"]["reason"] == "私人消费" and leaf["actor"] == t["owner_id"]
    # The rejected claim's invoice may be filed again.
    again = upload(
        api,
        t["bid"],
        phone_photo(SAMPLES["digital_ordinary"], size=(1600, 1200), seed=5),
        t["employee"],
    )
    assert again.status_code == 201
    c2 = file_claim(api, t, [again.get_json()["id"]], "0.01")
    back = api.post(
        f"/businesses/{t['bid']}/claims/{c2['id']}/return",
        {"reason": "请写用途"},
        token=t["bookkeeper"],
    )
    assert back.get_json()["status"] == "returned"
    upd = api.post(
        f"/businesses/{t['bid']}/claims/{c2['id']}", {"memo": "客户样品"}, token=t["employee"]
    )
    assert upd.status_code == 200 and upd.get_json()["memo"] == "客户样品"
    sub = api.post(f"/businesses/{t['bid']}/claims/{c2['id']}/submit", {}, token=t["employee"])
    assert sub.get_json()["status"] == "submitted"
    assert api.post(f"{base}/approve", {}, token=t["owner"]).status_code == 409


def test_policy_flags_yellow_and_red(api: Api, t: dict) -> None:
    api.post(
        f"/businesses/{t['bid']}/claim-policy",
        {
            "category_limits": {"office": "10.00"},
            "invoice_age_severity": "warn",
            "max_invoice_age_days": 30,
        },
        token=t["owner"],
    )
    c = file_claim(api, t, [receipt(api, t, SAMPLES["electronic_ordinary"])], "64.90")
    codes = {f["code"]: f["severity"] for f in c["flags"]}
    assert codes["over_category_limit"] == "warn"
    assert codes["invoice_too_old"] == "warn"  # 2016
    assert "no_invoice" not in codes
    no_qr = file_claim(api, t, [receipt(api, t, None, seed=9)], "12.00", date="2026-10-01")
    codes = {f["code"] for f in no_qr["flags"]}
    assert {"no_qr", "no_invoice", "weekend_holiday"} <= codes
    # Red: buyer tax ID other than the business's blocks submission, and changes nothing.
    rid = receipt(api, t, None, seed=11)
    body = {
        "category": "office",
        "amount": "5.00",
        "receipts": [rid],
        "buyer_tax_id": "91340600MA2PBM9HXD",
        "submit": True,
    }
    before = Claim.select().count()
    r = api.post(f"/businesses/{t['bid']}/claims", body, token=t["employee"])
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "policy_blocked"
    assert r.get_json()["error"]["details"]["flags"][0]["code"] == "buyer_mismatch"
    assert Claim.select().count() == before
    # Owners only change the policy.
    assert (
        api.post(f"/businesses/{t['bid']}/claim-policy", {}, token=t["bookkeeper"]).status_code
        == 403
    )


def test_payable_falls_back_to_2241_when_it_already_has_postings(api: Api, t: dict) -> None:
    lines = [{"account": "1001", "debit": "5.00"}, {"account": "2241", "credit": "5.00"}]
    assert (
        api.post(
            f"/businesses/{t['bid']}/entries",
            {"date": "2026-03-01", "lines": lines},
            token=t["owner"],
        ).status_code
        == 201
    )
    c = file_claim(api, t, [receipt(api, t, SAMPLES["electronic_ordinary"])], "64.90")
    ok = api.post(
        f"/businesses/{t['bid']}/claims/{c['id']}/approve", {}, token=t["owner"]
    ).get_json()
    e = api.get(f"/businesses/{t['bid']}/entries/{ok['entry_id']}", token=t["owner"]).get_json()
    assert e["lines"][-1]["account"] == "2241" and "emma" in e["lines"][-1]["memo"]


def test_receipt_in_another_claim_and_foreign_receipts_are_refused(api: Api, t: dict) -> None:
    rid = receipt(api, t, None, seed=4)
    file_claim(api, t, [rid], "3.00")
    r = api.post(
        f"/businesses/{t['bid']}/claims",
        {"category": "office", "amount": "3.00", "receipts": [rid]},
        token=t["employee"],
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "receipt_in_use"
    r = api.post(
        f"/businesses/{t['bid']}/claims",
        {"category": "office", "amount": "3.00", "receipts": [rid]},
        token=t["employee2"],
    )
    assert r.status_code == 404
    r = api.post(
        f"/businesses/{t['bid']}/claims",
        {"category": "nope", "amount": "3.00", "receipts": [rid]},
        token=t["employee"],
    )
    assert r.status_code == 422
    r = api.post(
        f"/businesses/{t['bid']}/claims",
        {"category": "office", "amount": 3, "receipts": [rid]},
        token=t["employee"],
    )
    assert r.status_code == 422
