"""The posting path takes the write lock late: checks read first, the writes re-check under it.

A quick record with an Idempotency-Key begins its transaction at its first write, so on SQLite
the write lock is not held while the request is validated. What validate() read can change
before the lock is granted; the statements that write re-check it, so a posting can never land
in a month that was closed, or on an account that stopped being an active leaf, in between.
"""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from app.db import db
from app.errors import Conflict
from app.models import Account, ChainLeaf, ClosedPeriod, Entry, EntryLine
from app.services import posting
from tests.conftest import Api

QUICK = {
    "kind": "expense",
    "amount": "35.50",
    "category": "meals",
    "paid_with": "wechat",
    "date": "2026-03-05",
}


def _entry(day: dt.date, account: str = "560203") -> posting.EntryInput:
    return posting.EntryInput(
        date=day,
        memo="x",
        lines=(posting.LineInput(account, debit=100), posting.LineInput("1001", credit=100)),
    )


def _counts(bid: int) -> tuple[int, int, int]:
    return (
        Entry.select().where(Entry.business == bid).count(),
        EntryLine.select().join(Entry).where(Entry.business == bid).count(),
        ChainLeaf.select().where(ChainLeaf.business_id == bid).count(),
    )


def test_validation_runs_before_the_transaction(books: Api, business: dict, monkeypatch) -> None:
    seen: list[bool] = []
    real = posting.validate

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(db.obj.in_transaction())
        return real(*args, **kwargs)

    monkeypatch.setattr(posting, "validate", spy)
    url = f"/businesses/{business['id']}/entries/quick"
    r = books.post(url, QUICK, headers={"Idempotency-Key": "late-1"})
    assert r.status_code == 201
    assert seen == [False]
    again = books.post(url, QUICK, headers={"Idempotency-Key": "late-1"})
    assert again.get_json() == r.get_json() and again.headers["Idempotent-Replayed"] == "true"


def test_month_closed_after_validation_is_refused(app: Flask, business: dict, monkeypatch) -> None:
    bid = business["id"]
    day = dt.date(2026, 3, 5)
    real = posting.validate

    def validate_then_close(business_id, entry, posting=True):  # type: ignore[no-untyped-def]
        ctx = real(business_id, entry, posting=posting)
        if not ClosedPeriod.select().where(ClosedPeriod.business == business_id).exists():
            ClosedPeriod.create(business=business_id, month="2026-03", closed_by=None)
        return ctx

    with app.app_context(), db.connection_context():
        before = _counts(bid)
        monkeypatch.setattr(posting, "validate", validate_then_close)
        with pytest.raises(Conflict) as err:
            posting.post_entry(bid, _entry(day), None)
        assert err.value.code == "period_closed"
        assert _counts(bid) == before


def test_account_made_a_parent_after_validation_is_refused(
    app: Flask, business: dict, monkeypatch
) -> None:
    bid = business["id"]
    real = posting.validate

    def validate_then_add_child(business_id, entry, posting=True):  # type: ignore[no-untyped-def]
        ctx = real(business_id, entry, posting=posting)
        parent = Account.get((Account.business == business_id) & (Account.code == "560203"))
        if not Account.select().where(Account.parent_code == "560203").exists():
            Account.create(
                business=business_id,
                code="56020301",
                name="child",
                type=parent.type,
                normal_side=parent.normal_side,
                parent_code="560203",
                is_standard=False,
            )
        return ctx

    with app.app_context(), db.connection_context():
        before = _counts(bid)
        monkeypatch.setattr(posting, "validate", validate_then_add_child)
        with pytest.raises(Exception) as err:
            posting.post_entry(bid, _entry(dt.date(2026, 3, 5)), None)
        assert getattr(err.value, "code", None) in ("account_not_leaf", "accounts_changed")
        assert _counts(bid) == before


def test_numbers_stay_dense_and_the_chain_follows(books: Api, business: dict) -> None:
    bid = business["id"]
    url = f"/businesses/{bid}/entries/quick"
    numbers = []
    for i in range(5):
        r = books.post(url, QUICK, headers={"Idempotency-Key": f"n-{i}"})
        assert r.status_code == 201
        numbers.append(r.get_json()["number"])
    assert numbers == sorted(numbers) and numbers == list(range(numbers[0], numbers[0] + 5))
    stored = books.get(f"/businesses/{bid}/entries/{r.get_json()['id']}").get_json()
    fresh = r.get_json()
    assert {k: stored[k] for k in fresh if k != "created_by_name"} == {
        k: fresh[k] for k in fresh if k != "created_by_name"
    }
