"""Posting through the API: what is accepted, what is refused, and that refusals change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from app.models import Entry, EntryLine
from tests.conftest import Api


def snapshot() -> tuple[int, int, int]:
    return (
        Entry.select().count(),
        EntryLine.select().count(),
        sum(ln.debit - ln.credit for ln in EntryLine.select()),
    )


def entry(
    bid: int, lines: list[dict[str, Any]], date: str = "2026-03-10", **extra: Any
) -> tuple[str, dict]:
    return f"/businesses/{bid}/entries", {"date": date, "memo": "test", "lines": lines, **extra}


CASH_SALE = [{"account": "1001", "debit": "10.00"}, {"account": "5001", "credit": "10.00"}]


def test_manual_entry_is_posted_with_its_lines(books: Api, business: dict, app) -> None:
    path, body = entry(business["id"], CASH_SALE)
    r = books.post(path, body)
    assert r.status_code == 201, r.get_json()
    e = r.get_json()
    assert e["status"] == "posted" and e["number"] == 1 and e["total"] == "10.00"
    assert [(ln["account"], ln["debit"], ln["credit"]) for ln in e["lines"]] == [
        ("1001", "10.00", "0.00"),
        ("5001", "0.00", "10.00"),
    ]
    again = books.get(f"/businesses/{business['id']}/entries/{e['id']}").get_json()
    assert again["lines"] == e["lines"] and again["created_by_name"] == "owner1"


BAD_BODIES = {
    "unbalanced": (
        [{"account": "1001", "debit": "10.00"}, {"account": "5001", "credit": "9.99"}],
        422,
        "unbalanced",
    ),
    "three decimals": (
        [{"account": "1001", "debit": "12.345"}, {"account": "5001", "credit": "12.345"}],
        422,
        "invalid_amount",
    ),
    "negative zero": (
        [{"account": "1001", "debit": "-0"}, {"account": "5001", "credit": "-0"}],
        422,
        "invalid_amount",
    ),
    "exponent": (
        [{"account": "1001", "debit": "1e3"}, {"account": "5001", "credit": "1e3"}],
        422,
        "invalid_amount",
    ),
    "huge": (
        [
            {"account": "1001", "debit": "99999999999999999999.00"},
            {"account": "5001", "credit": "99999999999999999999.00"},
        ],
        422,
        "invalid_amount",
    ),
    "number not string": (
        [{"account": "1001", "debit": 10}, {"account": "5001", "credit": 10}],
        422,
        "invalid_field",
    ),
    "zero": (
        [{"account": "1001", "debit": "0.00"}, {"account": "5001", "credit": "0.00"}],
        422,
        "invalid_amount",
    ),
    "both sides": (
        [
            {"account": "1001", "debit": "1.00", "credit": "1.00"},
            {"account": "5001", "credit": "0.00"},
        ],
        422,
        "invalid_line",
    ),
    "unknown account": (
        [{"account": "1999", "debit": "10.00"}, {"account": "5001", "credit": "10.00"}],
        422,
        "unknown_account",
    ),
    "parent account": (
        [{"account": "1012", "debit": "10.00"}, {"account": "5001", "credit": "10.00"}],
        422,
        "account_not_leaf",
    ),
    "one line": ([{"account": "1001", "debit": "10.00"}], 422, "invalid_field"),
    "unknown line field": (
        [
            {"account": "1001", "debit": "10.00", "amount": "1"},
            {"account": "5001", "credit": "10.00"},
        ],
        422,
        "unknown_field",
    ),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_entries_get_a_clear_4xx_and_change_nothing(
    books: Api, business: dict, case: str
) -> None:
    lines, status, code = BAD_BODIES[case]
    before = snapshot()
    path, body = entry(business["id"], lines)
    r = books.post(path, body)
    assert r.status_code == status, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == code and err["message"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "malformed_json"),
        ("[1, 2]", "application/json", 400, "malformed_json"),
        ('{"lines": NaN}', "application/json", 400, "malformed_json"),
        ('{"date": "2026-02-30", "lines": []}', "application/json", 422, "invalid_field"),
        (
            '{"lines": [{"account": "1001", "debit": "1.00"}, {"account": "5001", "credit": "1.00"}], "surprise": 1}',
            "application/json",
            422,
            "unknown_field",
        ),
        ("lines=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_malformed_bodies_are_refused(
    books: Api, business: dict, raw: str, content_type: str, status: int, code: str
) -> None:
    before = snapshot()
    r = books.post(
        f"/businesses/{business['id']}/entries", data=raw, headers={"Content-Type": content_type}
    )
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"]["code"] == code
    assert snapshot() == before


def test_impossible_calendar_date_is_refused(books: Api, business: dict) -> None:
    path, body = entry(business["id"], CASH_SALE, date="2026-02-30")
    r = books.post(path, body)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid_date"


def test_closed_month_refuses_postings_until_reopened(books: Api, business: dict) -> None:
    bid = business["id"]
    assert books.post(f"/businesses/{bid}/periods/2026-03/close", {}).status_code == 200
    before = snapshot()
    path, body = entry(bid, CASH_SALE, date="2026-03-31")
    r = books.post(path, body)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "period_closed"
    r = books.post(
        f"/businesses/{bid}/entries/quick",
        {
            "kind": "income",
            "amount": "5.00",
            "category": "sales",
            "paid_with": "cash",
            "date": "2026-03-01",
        },
    )
    assert r.status_code == 409
    assert snapshot() == before
    # April is open.
    assert books.post(*entry(bid, CASH_SALE, date="2026-04-01")).status_code == 201
    assert books.get(f"/businesses/{bid}/periods").get_json() == {"closed": ["2026-03"]}
    assert books.post(f"/businesses/{bid}/periods/2026-03/close", {}).status_code == 409
    assert books.post(f"/businesses/{bid}/periods/2026-03/reopen", {}).status_code == 200
    assert books.post(*entry(bid, CASH_SALE, date="2026-03-31")).status_code == 201


def test_reversal_posts_the_mirror_entry_and_only_once(books: Api, business: dict) -> None:
    bid = business["id"]
    original = books.post(*entry(bid, CASH_SALE)).get_json()
    r = books.post(f"/businesses/{bid}/entries/{original['id']}/reverse", {"date": "2026-03-11"})
    assert r.status_code == 201, r.get_json()
    rev = r.get_json()
    assert rev["reverses"] == original["id"] and rev["source"] == "reversal"
    assert [(ln["account"], ln["debit"], ln["credit"]) for ln in rev["lines"]] == [
        ("1001", "0.00", "10.00"),
        ("5001", "10.00", "0.00"),
    ]
    assert (
        books.get(f"/businesses/{bid}/entries/{original['id']}").get_json()["reversed_by"]
        == rev["id"]
    )
    before = snapshot()
    again = books.post(f"/businesses/{bid}/entries/{original['id']}/reverse", {})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_reversed"
    assert books.post(f"/businesses/{bid}/entries/{rev['id']}/reverse", {}).status_code == 409
    assert snapshot() == before
    tb = books.get(f"/businesses/{bid}/reports/trial-balance").get_json()
    cash = next(r for r in tb["rows"] if r["account"] == "1001")
    assert cash["closing_debit"] == "0.00" and cash["closing_credit"] == "0.00"


def test_reversal_into_a_closed_month_is_refused(books: Api, business: dict) -> None:
    bid = business["id"]
    original = books.post(*entry(bid, CASH_SALE)).get_json()
    books.post(f"/businesses/{bid}/periods/2026-03/close", {})
    r = books.post(f"/businesses/{bid}/entries/{original['id']}/reverse", {"date": "2026-03-20"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "period_closed"
    assert (
        books.post(
            f"/businesses/{bid}/entries/{original['id']}/reverse", {"date": "2026-04-02"}
        ).status_code
        == 201
    )


def test_posted_entries_cannot_be_deleted_but_drafts_can(books: Api, business: dict) -> None:
    bid = business["id"]
    posted = books.post(*entry(bid, CASH_SALE)).get_json()
    r = books.delete(f"/businesses/{bid}/entries/{posted['id']}")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "entry_posted"
    draft = books.post(*entry(bid, CASH_SALE, status="draft")).get_json()
    assert draft["status"] == "draft" and draft["posted_at"] is None
    tb = books.get(f"/businesses/{bid}/reports/trial-balance").get_json()
    assert tb["total_debit"] == "10.00"  # drafts are not in the books
    assert books.delete(f"/businesses/{bid}/entries/{draft['id']}").status_code == 200
    assert books.get(f"/businesses/{bid}/entries/{draft['id']}").status_code == 404


def test_draft_is_posted_after_checks_run_again(books: Api, business: dict) -> None:
    bid = business["id"]
    draft = books.post(*entry(bid, CASH_SALE, status="draft")).get_json()
    books.post(f"/businesses/{bid}/periods/2026-03/close", {})
    r = books.post(f"/businesses/{bid}/entries/{draft['id']}/post", {})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "period_closed"
    books.post(f"/businesses/{bid}/periods/2026-03/reopen", {})
    r = books.post(f"/businesses/{bid}/entries/{draft['id']}/post", {})
    assert r.status_code == 200 and r.get_json()["status"] == "posted"
    assert books.post(f"/businesses/{bid}/entries/{draft['id']}/post", {}).status_code == 409


def test_database_refuses_to_change_a_posted_entry_behind_the_api(
    books: Api, business: dict
) -> None:
    from peewee import DatabaseError

    from app.db import db

    posted = books.post(*entry(business["id"], CASH_SALE)).get_json()
    with db.connection_context():
        for sql in (
            "UPDATE entry_line SET debit = 999 WHERE entry_id = %d AND debit > 0",
            "DELETE FROM entry_line WHERE entry_id = %d",
            "UPDATE entry SET memo = 'changed' WHERE id = %d",
            "DELETE FROM entry WHERE id = %d",
        ):
            with pytest.raises(DatabaseError), db.atomic():
                db.execute_sql(sql % posted["id"])
    assert (
        books.get(f"/businesses/{business['id']}/entries/{posted['id']}").get_json()["lines"]
        == posted["lines"]
    )


QUICK = {
    "kind": "expense",
    "amount": "35.50",
    "category": "meals",
    "paid_with": "wechat",
    "date": "2026-03-05",
    "memo": "午饭",
}


@pytest.mark.parametrize(
    ("kind", "category", "paid_with", "debit", "credit"),
    [
        ("expense", "meals", "wechat", "560203", "101201"),
        ("expense", "rent", "bank", "560204", "1002"),
        ("expense", "purchase", "cash", "1405", "1001"),
        ("income", "sales", "alipay", "101202", "5001"),
        ("income", "service", "bank", "1002", "5001"),
    ],
)
def test_quick_record_books_through_the_category_template(
    books: Api, business: dict, kind, category, paid_with, debit, credit
) -> None:
    body = {**QUICK, "kind": kind, "category": category, "paid_with": paid_with}
    r = books.post(f"/businesses/{business['id']}/entries/quick", body)
    assert r.status_code == 201, r.get_json()
    e = r.get_json()
    assert [(ln["account"], ln["debit"], ln["credit"]) for ln in e["lines"]] == [
        (debit, "35.50", "0.00"),
        (credit, "0.00", "35.50"),
    ]
    assert e["category"] == category and e["source"] == "quick"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"category": "sales"}, "category_kind_mismatch"),
        ({"category": "nope"}, "unknown_category"),
        ({"paid_with": "card"}, "invalid_field"),
        ({"amount": "35.505"}, "invalid_amount"),
        ({"amount": 35.5}, "invalid_field"),
        ({"kind": "transfer"}, "invalid_field"),
        ({"extra": True}, "unknown_field"),
    ],
)
def test_quick_record_refusals(books: Api, business: dict, change: dict, code: str) -> None:
    before = snapshot()
    r = books.post(f"/businesses/{business['id']}/entries/quick", {**QUICK, **change})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == code
    assert snapshot() == before


def test_category_map_is_editable_and_new_categories_can_be_added(
    books: Api, business: dict
) -> None:
    bid = business["id"]
    r = books.post(f"/businesses/{bid}/categories/meals", {"account": "560101"})
    assert r.status_code == 200 and r.get_json()["account"] == "560101"
    r = books.post(f"/businesses/{bid}/entries/quick", QUICK)
    assert r.get_json()["lines"][0]["account"] == "560101"
    r = books.post(
        f"/businesses/{bid}/categories/delivery",
        {"kind": "expense", "name": "外卖平台费", "account": "560102"},
    )
    assert r.status_code == 200
    keys = [c["key"] for c in books.get(f"/businesses/{bid}/categories").get_json()["items"]]
    assert "delivery" in keys and {
        "sales",
        "service",
        "purchase",
        "office",
        "travel",
        "meals",
        "rent",
        "utilities",
        "salary",
        "other",
    } <= set(keys)
    bad = books.post(f"/businesses/{bid}/categories/meals", {"account": "5001"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "account_type_mismatch"


def test_sub_accounts_can_be_added_and_posted_to(books: Api, business: dict) -> None:
    bid = business["id"]
    r = books.post(f"/businesses/{bid}/accounts", {"parent": "1002", "name": "招商银行 8888"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["code"] == "100201"
    lines = [{"account": "100201", "debit": "5.00"}, {"account": "5001", "credit": "5.00"}]
    assert books.post(*entry(bid, lines)).status_code == 201
    r = books.post(
        *entry(bid, [{"account": "1002", "debit": "5.00"}, {"account": "5001", "credit": "5.00"}])
    )
    assert r.get_json()["error"]["code"] == "account_not_leaf"
    # A parent that already has postings cannot grow children.
    books.post(*entry(bid, CASH_SALE))
    r = books.post(f"/businesses/{bid}/accounts", {"parent": "1001", "name": "备用金"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "account_has_postings"


def test_chart_of_accounts_is_the_small_business_standard(books: Api, business: dict) -> None:
    items = books.get(f"/businesses/{business['id']}/accounts").get_json()["items"]
    names = {a["code"]: a["name"] for a in items}
    for code, name in {
        "1001": "库存现金",
        "1002": "银行存款",
        "1122": "应收账款",
        "1221": "其他应收款",
        "2202": "应付账款",
        "2211": "应付职工薪酬",
        "2221": "应交税费",
        "2241": "其他应付款",
        "3001": "实收资本",
        "5001": "主营业务收入",
        "5401": "主营业务成本",
        "5601": "销售费用",
        "5602": "管理费用",
        "5603": "财务费用",
    }.items():
        assert names[code] == name
    vat = [a for a in items if a["parent"] == "222101"]
    assert {a["name"] for a in vat} >= {"进项税额", "销项税额"}
