"""Every ledger event becomes a leaf in its business's log, in the change's own transaction."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from app.db import db
from app.events import LedgerEvent
from app.models import ChainHash, ChainLeaf, Entry
from app.services import chain, posting
from app.services.chain_verify import TreeBuilder
from chain.canonical import canonical_json
from chain.tlog import MemoryHashStore, stored_hash_count, tree_hash
from tests.chain_helpers import FAST_KEYS, busy_day, post_entry, sql
from tests.conftest import Api


@pytest.fixture
def app(app_factory) -> Flask:  # type: ignore[no-untyped-def]
    return app_factory(**FAST_KEYS)


def leaves(bid: int) -> list[dict]:
    with db.connection_context():
        rows = ChainLeaf.select().where(ChainLeaf.business_id == bid).order_by(ChainLeaf.idx)
        return [json.loads(r.data) for r in rows]


def test_every_kind_of_ledger_event_is_a_leaf(books: Api, business: dict) -> None:
    bid = business["id"]
    made = busy_day(books, bid)
    got = leaves(bid)
    assert [leaf["type"] for leaf in got] == [
        "membership.granted",  # the owner, when the business was created
        "entry.posted",
        "entry.posted",
        "entry.posted",
        "entry.reversed",
        "account.created",
        "period.closed",
        "period.closed",
        "period.reopened",
        "membership.granted",
        "membership.changed",
        "membership.granted",
        "membership.revoked",
        "entry.posted",
    ]
    assert [leaf["sequence"] for leaf in got] == list(range(len(got)))
    assert {leaf["business"] for leaf in got} == {bid}
    assert all(leaf["time"].endswith("Z") and len(leaf["time"]) == 20 for leaf in got)
    # entry.posted carries the full entry with its lines, as the API shows it
    e1 = made["entries"][0]
    posted = got[1]["content"]["entry"]
    assert posted["id"] == e1["id"] and posted["memo"] == e1["memo"]
    assert [(ln["account"], ln["debit"], ln["credit"]) for ln in posted["lines"]] == [
        ("1001", "12.30", "0.00"),
        ("5001", "0.00", "12.30"),
    ]
    assert got[4]["content"]["reverses"] == e1["id"]
    assert got[4]["content"]["entry"]["lines"][0]["credit"] == "12.30"
    assert got[10]["content"] == {
        "user_id": made["viewer_id"],
        "from": "viewer",
        "role": "bookkeeper",
    }
    assert got[1]["actor"] == got[0]["content"]["user_id"]


def test_leaves_are_canonical_json_and_the_stored_tree_is_rfc9162(
    app: Flask, books: Api, business: dict
) -> None:
    bid = business["id"]
    busy_day(books, bid)
    with db.connection_context():
        rows = list(ChainLeaf.select().where(ChainLeaf.business_id == bid).order_by(ChainLeaf.idx))
        mem = MemoryHashStore()
        for r in rows:
            assert canonical_json(json.loads(r.data)).decode() == r.data
            mem.append(r.data.encode())
        stored = [
            bytes(h.hash)
            for h in ChainHash.select().where(ChainHash.business_id == bid).order_by(ChainHash.idx)
        ]
        assert stored == mem.hashes
        assert len(stored) == stored_hash_count(len(rows))
        reader = chain.PeeweeHashReader(bid)
        for n in range(len(rows) + 1):
            assert tree_hash(n, reader) == tree_hash(n, mem)
        builder = TreeBuilder()
        for r in rows:
            builder.add(r.data.encode())
        assert bytes(builder.hashes) == b"".join(mem.hashes)
        assert builder.root() == tree_hash(len(rows), mem)


def test_a_refused_posting_leaves_no_leaf(books: Api, business: dict) -> None:
    bid = business["id"]
    before = len(leaves(bid))
    lines = [{"account": "1001", "debit": "10.00"}, {"account": "5001", "credit": "9.00"}]
    r = books.post(f"/businesses/{bid}/entries", {"date": "2026-03-01", "lines": lines})
    assert r.status_code == 422
    assert len(leaves(bid)) == before


def test_no_change_without_its_leaf(app: Flask, books: Api, business: dict, monkeypatch) -> None:
    """If appending the leaf fails, the posting is rolled back with it."""
    bid = business["id"]

    def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(chain, "append_hashes", broken)
    entry = posting.EntryInput(
        date=__import__("datetime").date(2026, 3, 1),
        memo="x",
        lines=(posting.LineInput("1001", debit=100), posting.LineInput("5001", credit=100)),
    )
    with app.app_context(), db.connection_context():
        count = Entry.select().count()
        with pytest.raises(RuntimeError, match="disk full"):
            posting.post_entry(bid, entry, None)
        assert Entry.select().count() == count
        assert ChainLeaf.select().where(ChainLeaf.business_id == bid).count() == 1


def test_drafts_are_not_leaves_until_posted(books: Api, business: dict) -> None:
    bid = business["id"]
    r = books.post(
        f"/businesses/{bid}/entries",
        {
            "date": "2026-03-01",
            "lines": [{"account": "1001", "debit": "1.00"}, {"account": "5001", "credit": "1.00"}],
            "status": "draft",
        },
    )
    assert r.status_code == 201, r.get_json()
    draft = r.get_json()
    assert [leaf["type"] for leaf in leaves(bid)] == ["membership.granted"]
    r = books.post(f"/businesses/{bid}/entries/{draft['id']}/post", {})
    assert r.status_code == 200, r.get_json()
    got = leaves(bid)
    assert got[-1]["type"] == "entry.posted"
    assert got[-1]["content"]["entry"]["status"] == "posted"


def test_append_costs_a_constant_number_of_queries(
    app: Flask, books: Api, business: dict, monkeypatch
) -> None:
    """One leaf INSERT, one batched SELECT of old hashes, one multi-row INSERT (plus lock and
    size): the same handful of queries whatever the log size, never one per stored hash."""
    bid = business["id"]
    for i in range(40):
        post_entry(books, bid, f"{i + 1}.00")
    counts = []
    with app.app_context(), db.connection_context():
        real = db.obj.execute_sql
        calls: list[str] = []

        def counting(sql_text, *a, **k):  # type: ignore[no-untyped-def]
            calls.append(sql_text)
            return real(sql_text, *a, **k)

        monkeypatch.setattr(db.obj, "execute_sql", counting)
        for _ in range(33):  # sizes 41..73 include n with up to 6 trailing one bits (63)
            calls.clear()
            with db.atomic():
                chain.append_leaf(LedgerEvent("period.closed", bid, None, {"month": "2026-04"}))
            counts.append(len(calls))
    assert max(counts) <= 5, counts
    assert sql("SELECT COUNT(*) FROM chain_leaf WHERE business_id = ?", bid)[0][0] == 74


def test_verify_rebuilds_entry_leaves_exactly_as_posting_emits_them(
    app: Flask, books: Api, business: dict
) -> None:
    """chain_verify.derive_entries reads raw rows; it must give entry_dict's content."""
    from app.services.chain_verify import derive_entries
    from app.services.entries import entry_dict

    bid = business["id"]
    made = busy_day(books, bid)
    ids = [e["id"] for e in made["entries"]]
    with app.app_context(), db.connection_context():
        derived = derive_entries(bid, ids)
        for eid in ids:
            row = Entry.get_by_id(eid)
            kind, actor, content = derived[eid]
            assert content["entry"] == entry_dict(row)
            assert actor == row.posted_by_id
            assert kind == ("entry.reversed" if row.reverses_id else "entry.posted")
            assert content.get("reverses") == row.reverses_id
        assert derive_entries(bid + 1, ids) == {}  # another business's entries are not ours
