"""Every template end to end through the API: fill the form, deploy, let the event happen,
run the engine, and see the money move (and the chain stay clean).

Each test runs twice: through the Flask test client, and over HTTP against gunicorn's worker
processes (as ./scripts/run serves the app), with the same calls encoded the same way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.models import Bill, Claim, Entry, EntryLine, Payment, Receivable
from tests.claims_helpers import team
from tests.conftest import Api
from tests.live_server import HttpApi, gunicorn
from tests.test_contracts_claims import approved_claim


@pytest.fixture(params=["wsgi", "gunicorn"])
def api(request, client, database_url: str, tmp_path) -> Iterator[Api | HttpApi]:  # type: ignore[no-untyped-def]
    if request.param == "wsgi":
        yield Api(client)
        return
    with gunicorn(database_url, tmp_path) as base:
        yield HttpApi(base)


@pytest.fixture
def t(api: Api) -> dict:
    return team(api)


def from_template(api: Api, t: dict, key: str, params: dict[str, Any]) -> dict:
    r = api.post(
        f"/businesses/{t['bid']}/contracts/templates/{key}", {"params": params}, token=t["owner"]
    )
    assert r.status_code == 201, r.get_json()
    c = r.get_json()
    assert c["template"] == key
    r = api.post(f"/businesses/{t['bid']}/contracts/{c['id']}/deploy", {}, token=t["owner"])
    assert r.status_code == 200, r.get_json()
    return c


def run(api: Api, t: dict) -> int:
    r = api.post(f"/businesses/{t['bid']}/contracts/process", {}, token=t["owner"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()["runs"]


def pay_by_hand(api: Api, t: dict, pid: int) -> dict:
    r = api.post(
        f"/businesses/{t['bid']}/payments/{pid}/mark-paid", {"reference": "B1"}, token=t["owner"]
    )
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def verify(app) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["chain", "verify", "--quiet"])
    assert result.exit_code == 0, result.output


def test_templates_are_listed_with_their_fields(api: Api, t: dict) -> None:
    r = api.get(f"/businesses/{t['bid']}/contracts/templates", token=t["viewer"])
    keys = [x["key"] for x in r.get_json()["items"]]
    assert keys == [
        "reimburse_claims",
        "pay_bills",
        "settle_receivables",
        "reserve_tax",
        "recurring_payment",
    ]
    r = api.post(
        f"/businesses/{t['bid']}/contracts/templates/nope", {"params": {}}, token=t["owner"]
    )
    assert r.status_code == 404
    r = api.post(
        f"/businesses/{t['bid']}/contracts/templates/reimburse_claims",
        {"params": {"max_amount": "12.345"}},
        token=t["owner"],
    )
    assert r.status_code == 422


def test_reimburse_claims(api: Api, t: dict, app) -> None:  # type: ignore[no-untyped-def]
    from_template(api, t, "reimburse_claims", {"max_amount": "100.00"})
    small = approved_claim(api, t, "64.90", seed=3)
    big = approved_claim(api, t, "150.00", seed=4, sample="digital_ordinary")
    assert run(api, t) == 2
    [p] = api.get(f"/businesses/{t['bid']}/payments", token=t["owner"]).get_json()["items"]
    assert p["target"] == {"kind": "claim", "id": small}
    pay_by_hand(api, t, p["id"])
    assert Claim.get_by_id(small).status == "paid" and Claim.get_by_id(big).status == "approved"
    verify(app)


def test_pay_bills_on_due_day_or_ask_owner(api: Api, t: dict, app) -> None:  # type: ignore[no-untyped-def]
    from_template(api, t, "pay_bills", {"approval_above": "500.00"})
    ids = []
    for amount in ("120.00", "900.00"):
        r = api.post(
            f"/businesses/{t['bid']}/bills",
            {"supplier": "米商", "amount": amount, "due_date": "2026-01-10"},
            token=t["bookkeeper"],
        )
        ids.append(r.get_json()["id"])
        api.post(f"/businesses/{t['bid']}/bills/{ids[-1]}/approve", {}, token=t["owner"])
    r = api.post(
        f"/businesses/{t['bid']}/bills",
        {"supplier": "未批准", "amount": "5.00", "due_date": "2026-01-10"},
        token=t["bookkeeper"],
    )
    assert run(api, t) == 2  # the unapproved bill is not announced
    queue = api.get(
        f"/businesses/{t['bid']}/payments", query={"status": "awaiting_approval"}, token=t["owner"]
    ).get_json()["items"]
    assert [q["amount"] for q in queue] == ["900.00"]
    r = api.post(f"/businesses/{t['bid']}/payments/{queue[0]['id']}/approve", {}, token=t["owner"])
    assert r.status_code == 200
    for p in Payment.select():
        pay_by_hand(api, t, p.id)
    assert {Bill.get_by_id(i).status for i in ids} == {"paid"}
    verify(app)


def test_settle_receivables(api: Api, t: dict, app) -> None:  # type: ignore[no-untyped-def]
    from_template(api, t, "settle_receivables", {"to_account": "1002"})
    api.post(
        f"/businesses/{t['bid']}/receivables",
        {"customer": "张三", "amount": "300.00", "reference": "SO-1"},
        token=t["owner"],
    )
    api.post(
        f"/businesses/{t['bid']}/payments/received",
        {"amount": "300.00", "reference": "SO-2"},  # no such receivable: nothing settles
        token=t["owner"],
    )
    api.post(
        f"/businesses/{t['bid']}/payments/received",
        {"amount": "300.00", "reference": "SO-1"},
        token=t["owner"],
    )
    assert run(api, t) == 2
    rec = Receivable.get()
    assert rec.status == "settled"
    lines = {
        (ln.account.code, ln.debit, ln.credit)
        for ln in EntryLine.select().where(EntryLine.entry == rec.entry_id)
    }
    assert lines == {("1002", 30000, 0), ("1122", 0, 30000)}
    verify(app)


def test_reserve_tax(api: Api, t: dict, app) -> None:  # type: ignore[no-untyped-def]
    r = api.post(
        f"/businesses/{t['bid']}/accounts", {"parent": "1012", "name": "税款备付"}, token=t["owner"]
    )
    reserve = r.get_json()["code"]
    from_template(api, t, "reserve_tax", {"percent": "3", "to_account": reserve})
    lines = [
        {"account": "1002", "debit": "1000.00"},
        {"account": "5001", "credit": "700.00"},
        {"account": "5051", "credit": "300.00"},
    ]
    r = api.post(
        f"/businesses/{t['bid']}/entries", {"date": "2026-03-01", "lines": lines}, token=t["owner"]
    )
    assert r.status_code == 201, r.get_json()
    assert run(api, t) == 1
    e = Entry.get(Entry.source == "contract")
    got = {
        (ln.account.code, ln.debit, ln.credit)
        for ln in EntryLine.select().where(EntryLine.entry == e.id)
    }
    assert got == {(reserve, 2100, 0), ("1002", 0, 2100)}  # 3% of the 700.00 income only
    verify(app)


def test_recurring_payment(api: Api, t: dict, app) -> None:  # type: ignore[no-untyped-def]
    from_template(
        api,
        t,
        "recurring_payment",
        {
            "payee": "landlord:wang",
            "payee_name": "王房东",
            "amount": "3500.00",
            "day": 1,
            "to_account": "560204",
        },
    )
    assert run(api, t) == 1
    assert run(api, t) == 0  # once a month
    p = Payment.get()
    assert p.amount == 350000 and p.to_account == "560204"
    pay_by_hand(api, t, p.id)
    verify(app)
