"""verify's fast path: the entry leaf text written directly from the ledger rows must be
byte for byte what canonical_json gives for the slow path's (kind, actor, content), and any
value of an unexpected type must send the leaf to the slow path rather than pass."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from app.db import db
from app.services.chain import leaf_dict
from app.services.chain_verify import (
    Accounts,
    entry_content,
    entry_leaf_text,
    leaf_rows,
    lines_by_leaf,
)
from chain.canonical import canonical_json
from tests.chain_helpers import FAST_KEYS, behind_the_api, busy_day, post_entry, sql
from tests.conftest import Api
from tests.test_chain_tamper import log, verify  # noqa: F401 - the fixture


@pytest.fixture
def app(app_factory) -> Flask:  # type: ignore[no-untyped-def]
    return app_factory(**FAST_KEYS)


def slow_text(bid: int, row: tuple, lines: list, accounts: Accounts) -> bytes:
    """What the detailed comparison expects: canonical_json of the slow path's leaf."""
    from app.services.chain_verify import _iso

    kind, actor, content = entry_content(row[4], row[6:], accounts.rows(lines))
    return canonical_json(leaf_dict(kind, bid, row[0], _iso(row[2]) or "", actor, content))


def test_fast_text_is_the_stored_leaf_and_the_canonical_json(
    app: Flask, books: Api, business: dict
) -> None:
    bid = business["id"]
    busy_day(books, bid)
    post_entry(books, bid, "123456.78", 'quote " back \\ tab \t nl \n ctl \x01 emoji 🧾 ぁ')
    post_entry(books, bid, "0.01", "")
    with app.app_context(), db.connection_context():
        rows = leaf_rows(bid, -1, 1000, 1000)
        accounts = Accounts()
        lines = lines_by_leaf(bid, rows[0][0], rows[-1][0], accounts)
        entries = [r for r in rows if r[4] is not None]
        assert len(entries) >= 7 and any(r[6 + 8] for r in entries)  # a reversal among them
        for row in entries:
            fast = entry_leaf_text(bid, row, lines.get(row[0], ()), accounts)
            assert fast == row[5]
            assert fast.encode() == slow_text(bid, row, lines.get(row[0], []), accounts)


ROW = (
    7,  # idx
    "entry.posted",
    "2026-03-01 08:00:00",
    3,  # actor_id
    41,  # entry_id
    "",  # data
    1,  # business_id
    12,  # number
    "2026-03-01",
    "memo \u2028 \x7f \x1f",
    "posted",
    "manual",
    None,  # category
    None,  # paid_with
    None,  # reverses
    None,  # created_by
    "2026-03-01 07:59:59.123456",
    3,  # posted_by
    "2026-03-01 08:00:00",
)
LINES = [
    (1, 10, 0, 0, "a"),
    (2, 11, 99, 0, ""),
    (3, 99, 5, 0, "no such account"),
    (4, 10, 0, 99, "b"),
]


def accounts() -> Accounts:
    acc = Accounts()
    for aid, code, name in ((10, "1001", "库存现金"), (11, "5001", 'x "y"')):
        acc[aid] = (
            code,
            name,
            f'"account":{canonical_json(code).decode()},'
            f'"account_name":{canonical_json(name).decode()}',
        )
    return acc


@pytest.mark.parametrize(
    "change",
    [
        {},
        {14: 40},  # a reversal
        {14: 0},  # reverses 0: not a reversal
        {12: "meals", 13: "wechat", 15: 2},
        {17: None, 3: None},  # no actor, no poster
    ],
)
def test_fast_text_equals_canonical_json_of_odd_but_valid_rows(change: dict) -> None:
    row = tuple(change.get(i, v) for i, v in enumerate(ROW))
    acc = accounts()
    assert entry_leaf_text(1, row, LINES, acc).encode() == slow_text(1, row, LINES, acc)


@pytest.mark.parametrize(
    "change, lines",
    [
        ({7: 12.0}, LINES),  # a float number
        ({4: "41"}, LINES),  # a text id
        ({7: True}, LINES),  # written 1, which json.loads compares equal to True
        ({16: None}, LINES),  # NULL created_at
        ({2: None}, LINES),  # NULL time
        ({8: 20260301}, LINES),  # a date that is a number
        ({}, [(1, 10, 3550.5, 0, "")]),  # a float amount
        ({}, [(1, 10, -5, 0, "")]),  # a negative amount
        ({}, [(1, 10, True, 0, "")]),  # a bool amount
        ({}, [(1, 10, "5", 0, "")]),  # a text amount
        ({}, [(1, 10, 5, 0, 7)]),  # a memo that is a number
        ({}, [(1.0, 10, 5, 0, "")]),  # a float line number
    ],
)
def test_odd_values_take_the_slow_path_or_agree_with_it(change: dict, lines: list) -> None:
    """A stored text equal to the fast text passes; it must then pass the detailed
    comparison too, which accepts a leaf whose parsed value equals the slow path's."""
    row = tuple(change.get(i, v) for i, v in enumerate(ROW))
    acc = accounts()
    try:
        fast = entry_leaf_text(1, row, lines, acc)
    except (TypeError, ValueError):
        return  # the slow path decides
    assert json.loads(fast) == json.loads(slow_text(1, row, lines, acc))


# --- worker processes: the same findings, in the same order -------------------------------


def tamper_line(bid: int, made: dict) -> None:
    eid = made["entries"][1]["id"]
    sql("UPDATE entry_line SET debit = 500 WHERE entry_id = ? AND line_no = 1", eid)
    sql("UPDATE entry_line SET memo = 'x' WHERE entry_id = ? AND line_no = 2", eid)


def tamper_swap(bid: int, made: dict) -> None:
    sql("UPDATE chain_leaf SET idx = -1 WHERE business_id = ? AND idx = 7", bid)
    sql("UPDATE chain_leaf SET idx = 7 WHERE business_id = ? AND idx = 8", bid)
    sql("UPDATE chain_leaf SET idx = 8 WHERE business_id = ? AND idx = -1", bid)


def tamper_hash_and_entry(bid: int, made: dict) -> None:
    sql("UPDATE chain_hash SET hash = ? WHERE business_id = ? AND idx = 3", b"\x07" * 32, bid)
    sql("UPDATE entry SET memo = 'changed' WHERE id = ?", made["entries"][3]["id"])
    sql("DELETE FROM membership WHERE business_id = ? AND role = 'bookkeeper'", bid)


@pytest.mark.parametrize("tamper", [None, tamper_line, tamper_swap, tamper_hash_and_entry])
def test_worker_processes_find_the_same_problems(
    app: Flask,
    log: dict,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
    tamper: Any,
) -> None:
    """Each batch read and checked in a worker process (its own connection to the database)
    gives what reading it here gives, problem for problem."""
    from app.services import chain_verify

    bid = log["bid"]
    if tamper is not None:
        with app.app_context(), db.connection_context(), behind_the_api():
            tamper(bid, log)
    monkeypatch.setattr(chain_verify, "BATCH", 3)  # several batches, over both workers
    here = verify(app, "--workers", "1")
    monkeypatch.setattr(chain_verify, "PARALLEL_MIN_LEAVES", 1)
    jobs: list[int] = []

    def pool(n: int) -> Any:
        made = real_pool(n)
        real_map = made.map
        made.map = lambda fn, batches: jobs.append(len(batches)) or real_map(fn, batches)
        return made

    real_pool = chain_verify.worker_pool
    monkeypatch.setattr(chain_verify, "worker_pool", pool)
    there = verify(app, "--workers", "2")
    assert len(jobs) == 1 and jobs[0] >= 6  # 20 leaves in batches of 3, in the workers
    assert there == here
    assert (here[0] == 0) == (tamper is None), here[1]


def test_verify_goes_on_in_this_process_when_the_workers_fail(
    app: Flask,
    log: dict,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor

    from app.services import chain_verify

    with app.app_context(), db.connection_context(), behind_the_api():
        tamper_line(log["bid"], log)
    monkeypatch.setattr(chain_verify, "BATCH", 3)
    here = verify(app, "--workers", "1")
    monkeypatch.setattr(chain_verify, "PARALLEL_MIN_LEAVES", 1)
    spawn = multiprocessing.get_context("spawn")
    monkeypatch.setattr(
        chain_verify,
        "worker_pool",
        lambda n: ProcessPoolExecutor(n, mp_context=spawn, initializer=sys.exit, initargs=(3,)),
    )
    assert verify(app, "--workers", "2") == here
    assert here[0] == 1
    assert "worker processes failed" in caplog.text
