"""The post-posting check: the month-sales aggregate stays equal to the books, and a failing
check never costs the posting."""

from __future__ import annotations

import datetime as dt

import pytest

from app.clock import SHANGHAI
from app.db import db
from app.models.tax import TaxMonthSales
from app.tax import service
from app.tax.jobs import run_daily_tax_checks
from tests.conftest import Api
from tests.tax_helpers import entry, quick


def _aggregate(bid: int) -> dict[str, int]:
    with db.connection_context():
        return {
            m: a
            for m, a in TaxMonthSales.select(TaxMonthSales.month, TaxMonthSales.amount)
            .where(TaxMonthSales.business == bid)
            .tuples()
        }


def _books_sales(api: Api, bid: int, month: str) -> int:
    last = {"02": "28"}.get(month[5:], "30")
    tb = api.get(
        f"/businesses/{bid}/reports/trial-balance",
        query={"from": f"{month}-01", "to": f"{month}-{last}"},
    ).get_json()
    total = 0
    for row in tb["rows"]:
        if row["is_leaf"] and row["account"].startswith(("5001", "5051")):
            total += int(row["credit"].replace(".", "")) - int(row["debit"].replace(".", ""))
    return total


def test_the_aggregate_follows_postings_and_reversals(books: Api, business: dict) -> None:
    bid = business["id"]
    quick(books, bid, "income", "100.00", "sales", "2026-03-01")
    b = quick(books, bid, "income", "250.50", "other_income", "2026-03-02")
    entry(books, bid, "2026-04-03", [("5001", "debit", "10.00"), ("1002", "credit", "10.00")])
    quick(books, bid, "expense", "99.00", "rent", "2026-03-03")  # no revenue: no change
    books.post(f"/businesses/{bid}/entries/{b['id']}/reverse", {"date": "2026-04-04"})
    agg = _aggregate(bid)
    assert agg == {
        "2026-03": _books_sales(books, bid, "2026-03"),
        "2026-04": -26050,
    }  # -250.50 - 10.00
    assert agg["2026-03"] == 35050


def test_the_daily_run_repairs_the_aggregate_from_the_books(books: Api, business: dict) -> None:
    bid = business["id"]
    quick(books, bid, "income", "100.00", "sales", "2026-02-01")
    with db.connection_context():
        TaxMonthSales.update(amount=1).execute()  # as if written out of band
        moment = dt.datetime(2026, 3, 5, 8, 0, tzinfo=SHANGHAI)
        run_daily_tax_checks(moment, slot=moment)
    assert _aggregate(bid) == {"2026-02": 10000}


def test_a_failing_check_never_loses_the_posting(
    books: Api, business: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise RuntimeError("rule engine down")

    monkeypatch.setattr(service, "check_business", boom)
    e = quick(books, business["id"], "income", "100.00", "sales", "2026-03-01")
    assert books.get(f"/businesses/{business['id']}/entries/{e['id']}").status_code == 200
