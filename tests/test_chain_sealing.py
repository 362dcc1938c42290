"""Sealing: one block per batch of new leaves, however many sealers run at once; a
checkpoint is never signed unless it extends the previous one; the scheduler's jobs."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from app.db import db
from app.jobs import add_jobs, seal_job
from app.models import ChainBlock
from app.services import chain, posting
from app.services.chain_keys import keyring
from chain.blocks import verify_chain
from chain.tlog import stored_hash_index
from tests.chain_helpers import FAST_KEYS, behind_the_api, post_entry, sql
from tests.conftest import Api


@pytest.fixture
def app(app_factory) -> Flask:  # type: ignore[no-untyped-def]
    return app_factory(**FAST_KEYS)


def blocks(bid: int) -> list[ChainBlock]:
    with db.connection_context():
        return list(
            ChainBlock.select().where(ChainBlock.business_id == bid).order_by(ChainBlock.height)
        )


def test_concurrent_sealers_never_seal_the_same_leaves_twice(
    app: Flask, books: Api, business: dict
) -> None:
    bid = business["id"]
    with app.app_context():
        signer = keyring.signer()
    for _ in range(5):
        post_entry(books, bid)
    errors: list[BaseException] = []
    made: list[int] = []
    start = threading.Barrier(7)
    entry = posting.EntryInput(
        date=dt.date(2026, 3, 1),
        memo="concurrent",
        lines=(posting.LineInput("1001", debit=100), posting.LineInput("5001", credit=100)),
    )

    def sealer(wait: bool) -> None:
        try:
            start.wait()
            for _ in range(8):
                with db.connection_context():
                    block = chain.seal(bid, signer, wait=wait)
                if block is not None:
                    made.append(block.height)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def poster() -> None:
        try:
            start.wait()
            for _ in range(10):
                with db.connection_context():
                    posting.post_entry(bid, entry, None)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=sealer, args=(i % 2 == 0,)) for i in range(6)]
    threads.append(threading.Thread(target=poster))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with app.app_context():
        chain.seal(bid, signer)  # whatever the last poster added
    got = blocks(bid)
    assert sorted(made) == list(range(len(made)))  # each block reported by exactly one sealer
    assert [b.height for b in got] == list(range(len(got)))
    assert got[0].first_leaf == 0 and got[-1].end_leaf == 16
    for prev, cur in zip(got, got[1:], strict=False):
        assert cur.first_leaf == prev.end_leaf < cur.end_leaf
    verify_chain([chain.header_of(b) for b in got], [signer.verifier])


def test_no_empty_blocks_and_headers_chain(app: Flask, books: Api, business: dict) -> None:
    bid = business["id"]
    with app.app_context(), db.connection_context():
        first = chain.seal(bid)
        assert first is not None and (first.first_leaf, first.end_leaf) == (0, 1)
        assert chain.seal(bid) is None
    post_entry(books, bid)
    post_entry(books, bid)
    with app.app_context(), db.connection_context():
        second = chain.seal(bid)
        assert (second.height, second.first_leaf, second.end_leaf) == (1, 1, 3)
        assert bytes(second.prev_hash) == chain.header_of(first).block_hash()
        assert bytes(second.block_hash) == chain.header_of(second).block_hash()
        assert second.sealed_at >= first.sealed_at


def test_a_checkpoint_is_never_signed_unless_consistent(
    app: Flask, books: Api, business: dict
) -> None:
    bid = business["id"]
    for _ in range(3):
        post_entry(books, bid)
    with app.app_context(), db.connection_context():
        chain.seal(bid)
        with behind_the_api():  # rewrite history below the sealed size
            sql(
                "UPDATE chain_hash SET hash = ? WHERE business_id = ? AND idx = ?",
                bytes(32),
                bid,
                stored_hash_index(2, 0),  # the subtree over leaves [0, 4)
            )
    post_entry(books, bid)
    with app.app_context(), db.connection_context():
        with pytest.raises(chain.ChainIntegrityError, match="not consistent with block 0"):
            chain.seal(bid)
        assert len(blocks(bid)) == 1


def test_a_rolled_back_log_is_never_signed(app: Flask, books: Api, business: dict) -> None:
    bid = business["id"]
    for _ in range(3):
        post_entry(books, bid)
    with app.app_context(), db.connection_context():
        chain.seal(bid)
        with behind_the_api():
            sql("DELETE FROM chain_leaf WHERE business_id = ? AND idx = 3", bid)
        with pytest.raises(chain.ChainIntegrityError, match="rolled back"):
            chain.seal(bid)


def test_seal_job_seals_every_log_with_new_leaves(
    app: Flask, books: Api, business: dict, api: Api
) -> None:
    from tests.conftest import OTHER_USCC, new_business

    other = new_business(api, books.token or "", "二号店", uscc=OTHER_USCC)
    post_entry(books, business["id"])
    assert seal_job(app) == 2
    assert seal_job(app) == 0
    post_entry(books, other["id"])
    assert seal_job(app) == 1
    assert [b.end_leaf for b in blocks(other["id"])] == [1, 2]


def test_scheduler_jobs(app: Flask) -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, app)
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"chain-seal", "chain-verify"}
    assert jobs["chain-seal"].trigger.interval.total_seconds() == 2
    assert jobs["chain-seal"].max_instances == 1
    assert "hour='3', minute='30'" in str(jobs["chain-verify"].trigger)


def test_a_damaged_log_refuses_changes_and_seals_with_409(
    app: Flask, books: Api, business: dict
) -> None:
    bid = business["id"]
    entry = post_entry(books, bid)
    with app.app_context(), db.connection_context():
        chain.seal(bid)
        with behind_the_api():
            sql("DELETE FROM chain_leaf WHERE business_id = ? AND idx = 1", bid)
    lines = [{"account": "1001", "debit": "1.00"}, {"account": "5001", "credit": "1.00"}]
    r = books.post(f"/businesses/{bid}/entries", {"date": "2026-03-01", "lines": lines})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "chain_integrity_error"
    r = books.post(
        f"/businesses/{bid}/entries",
        {"date": "2026-03-01", "lines": lines},
        headers={"Idempotency-Key": "k1"},
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "chain_integrity_error"
    with app.app_context(), db.connection_context():
        assert sql("SELECT COUNT(*) FROM entry WHERE business_id = ?", bid)[0][0] == 1
    r = books.post(f"/businesses/{bid}/chain/seal", {})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "chain_integrity_error"
    assert "rolled back" in r.get_json()["error"]["message"]
    assert books.get(f"/businesses/{bid}/entries/{entry['id']}/receipt").status_code == 409
