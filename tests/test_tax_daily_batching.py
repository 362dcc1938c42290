"""The daily run's shortcuts decide exactly what the plain way did: the entries behind all of a
business's warnings fetched in one statement, the writes sent together, the invoice lookup done
once per run, and businesses checked in two threads."""

from __future__ import annotations

import datetime as dt
import json

from app.clock import SHANGHAI
from app.db import db
from app.models.tax import TaxRun, TaxWarning
from app.tax.jobs import run_daily_tax_checks
from app.tax.metrics import ENTRY_LIMIT, REVENUE, EntryQuery, fetch_entries
from tests.conftest import Api, new_business
from tests.tax_helpers import entry, profile, quick


def _sales(api: Api, bid: int) -> list[tuple[int, int]]:
    """30 sales over three months, with equal amounts (ties are broken by entry id):
    (amount in yuan, entry id)."""
    out = []
    for i in range(30):
        amount = 1000 + (i % 7) * 250
        e = quick(
            api, bid, "income", f"{amount}.00", "sales", f"2026-0{1 + i % 3}-{1 + i // 3:02d}"
        )
        out.append((amount, e["id"]))
    return out


def test_batched_entry_queries_give_each_warning_the_same_entries(
    books: Api, business: dict, owner: dict
) -> None:
    bid = business["id"]
    sales = _sales(books, bid)
    for day, amount in (("03", "300.00"), ("04", "800.00"), ("05", "800.00")):
        entry(
            books, bid, f"2026-03-{day}", [("560203", "debit", amount), ("1002", "credit", amount)]
        )
    quick(books, bid, "expense", "1500.00", "office", "2026-03-06", paid_with="cash")
    # Another business's sales must never show up.
    other = new_business(books, owner["access_token"], name="隔壁")
    quick(books, other["id"], "income", "99999.00", "sales", "2026-01-15")

    year = (dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    queries = [
        EntryQuery(bid, REVENUE, *year, "credit"),
        EntryQuery(bid, REVENUE, dt.date(2026, 1, 1), dt.date(2026, 2, 1), "credit"),
        EntryQuery(bid, ("560203",), *year, "debit"),
        EntryQuery(bid, ("1001",), *year, "credit", more_than=100000),
        EntryQuery(bid, REVENUE, *year, "credit", as_of=dt.date(2026, 2, 10)),
        EntryQuery(bid, ("5801",), *year, "debit"),  # nothing there
        EntryQuery(bid, REVENUE, *year, "credit"),  # the same query twice
    ]
    with db.connection_context():
        one_by_one = [q() for q in queries]
        together = fetch_entries(queries)
    assert together == one_by_one
    # And what the single query gives is the largest first, ties by id, at most 20.
    by_size = sorted(sales, key=lambda s: (-s[0], s[1]))
    assert one_by_one[0] == [eid for _, eid in by_size[:ENTRY_LIMIT]]
    assert len(one_by_one[1]) == 10 and one_by_one[5] == []
    assert len(one_by_one[2]) == 3 and len(one_by_one[3]) == 1


def _stored() -> list[tuple]:
    return [
        (w.business_id, w.rule_id, w.period_key, w.severity, w.state, w.figures, w.entry_ids)
        for w in TaxWarning.select().order_by(
            TaxWarning.business, TaxWarning.rule_id, TaxWarning.period_key
        )
    ]


def test_two_threads_store_what_one_does(books: Api, business: dict, owner: dict) -> None:
    bids = [business["id"]] + [
        new_business(books, owner["access_token"], name=f"商户{i}")["id"] for i in range(3)
    ]
    for n, bid in enumerate(bids):
        profile(books, bid, vat_filing_basis="monthly")
        quick(books, bid, "income", f"{60000 + n * 30000}.00", "sales", "2026-03-10")
        quick(books, bid, "expense", "1200.00", "office", "2026-03-11", paid_with="cash")
        entry(
            books, bid, "2026-03-12", [("560203", "debit", "900.00"), ("1002", "credit", "900.00")]
        )
    moment = dt.datetime(2026, 3, 31, 8, 0, tzinfo=SHANGHAI)
    with db.connection_context():
        TaxWarning.delete().execute()
        first = run_daily_tax_checks(moment, workers=1)
        one = _stored()
        TaxWarning.delete().execute()
        second = run_daily_tax_checks(moment, workers=2)
        two = _stored()
        assert TaxRun.select().count() == 2
    assert first is not None and second is not None
    assert (second.businesses, second.opened, second.failures) == (
        first.businesses,
        first.opened,
        0,
    )
    assert first.businesses == 4 and len(one) >= 8
    assert [r[:5] for r in two] == [r[:5] for r in one]
    # Figures and entries as well (the figures carry no run time).
    assert [(json.loads(r[5]), json.loads(r[6])) for r in two] == [
        (json.loads(r[5]), json.loads(r[6])) for r in one
    ]
