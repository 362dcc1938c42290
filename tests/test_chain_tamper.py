"""Tampering behind the API, in SQL: `flask chain verify` catches each change and says where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from app.db import db
from app.jobs import verify_job
from app.services import chain
from app.services.chain_keys import keyring
from chain import note
from chain.canonical import canonical_json
from chain.checkpoint import format_checkpoint, sign_checkpoint
from chain.tlog import stored_hash_count, stored_hash_index
from tests.chain_helpers import FAST_KEYS, behind_the_api, busy_day, post_entry, seal, sql
from tests.conftest import Api


@pytest.fixture
def app(app_factory) -> Flask:  # type: ignore[no-untyped-def]
    return app_factory(**FAST_KEYS)


@pytest.fixture
def log(app: Flask, books: Api, business: dict) -> dict:
    """A business with every kind of event, sealed in three blocks, plus an unsealed tail."""
    bid = business["id"]
    made = busy_day(books, bid)
    seal(books, bid)
    for i in range(4):
        post_entry(books, bid, f"{i + 1}.11")
    seal(books, bid)
    post_entry(books, bid, "7.00")
    seal(books, bid)
    post_entry(books, bid, "3.00", memo="unsealed")
    return {"bid": bid, **made}


def verify(app: Flask, *args: str) -> tuple[int, str]:
    """Run `flask chain verify`; return the exit code and everything it printed."""
    result = app.test_cli_runner().invoke(args=["chain", "verify", "--quiet", *args])
    return result.exit_code, result.output


def first_problem(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("FIRST PROBLEM"))


def leaf_of_entry(bid: int, eid: int) -> int:
    return sql("SELECT idx FROM chain_leaf WHERE business_id = ? AND entry_id = ?", bid, eid)[0][0]


def test_an_untouched_log_verifies(app: Flask, log: dict) -> None:
    code, out = verify(app)
    assert code == 0, out
    assert f"business {log['bid']}: 20 leaves, 3 blocks: ok" in out


def test_changed_line_amount(app: Flask, log: dict) -> None:
    bid, entry = log["bid"], log["entries"][1]
    with app.app_context(), db.connection_context(), behind_the_api():
        sql("UPDATE entry_line SET debit = 500 WHERE entry_id = ? AND line_no = 1", entry["id"])
        sql("UPDATE entry_line SET credit = 500 WHERE entry_id = ? AND line_no = 2", entry["id"])
        idx = leaf_of_entry(bid, entry["id"])
    code, out = verify(app, "--business", str(bid))
    assert code == 1
    assert first_problem(out) == (
        f"FIRST PROBLEM: business {bid}, leaf {idx}, entry {entry['id']}, field "
        "content.entry.lines[0].debit: differs: the ledger rows give '5.00', the leaf says '0.05'"
    )


def test_changed_line_amount_names_the_line(app: Flask, log: dict) -> None:
    bid, entry = log["bid"], log["entries"][2]
    with app.app_context(), db.connection_context(), behind_the_api():
        # Move money between lines without changing the total: only the line differs.
        sql("UPDATE entry_line SET memo = 'x' WHERE entry_id = ? AND line_no = 2", entry["id"])
        idx = leaf_of_entry(bid, entry["id"])
    code, out = verify(app)
    assert code == 1
    assert f"leaf {idx}, entry {entry['id']}, field content.entry.lines[1].memo" in first_problem(
        out
    )


def test_deleted_leaf(app: Flask, log: dict) -> None:
    bid = log["bid"]
    with app.app_context(), db.connection_context(), behind_the_api():
        sql("DELETE FROM chain_leaf WHERE business_id = ? AND idx = 5", bid)
    code, out = verify(app)
    assert code == 1
    assert first_problem(out).startswith(
        f"FIRST PROBLEM: business {bid}, leaf 5: leaf 5 is missing"
    )


def test_swapped_leaves(app: Flask, log: dict) -> None:
    bid = log["bid"]
    with app.app_context(), db.connection_context(), behind_the_api():
        sql("UPDATE chain_leaf SET idx = -1 WHERE business_id = ? AND idx = 7", bid)
        sql("UPDATE chain_leaf SET idx = 7 WHERE business_id = ? AND idx = 8", bid)
        sql("UPDATE chain_leaf SET idx = 8 WHERE business_id = ? AND idx = -1", bid)
    code, out = verify(app)
    assert code == 1
    assert first_problem(out) == (
        f"FIRST PROBLEM: business {bid}, leaf 7, field sequence: "
        "the leaf says 8, its row says 7 (leaves swapped or moved?)"
    )


def test_swapped_leaf_texts_with_fixed_sequence_numbers(app: Flask, log: dict) -> None:
    """A careful attacker also rewrites the sequence numbers: the signed roots catch it."""
    bid = log["bid"]
    with app.app_context(), db.connection_context(), behind_the_api():
        rows = dict(
            sql("SELECT idx, data FROM chain_leaf WHERE business_id = ? AND idx IN (7, 8)", bid)
        )
        for a, b in ((7, 8), (8, 7)):
            leaf = json.loads(rows[b])
            leaf["sequence"] = a
            sql(
                "UPDATE chain_leaf SET data = ?, type = ?, time = ? WHERE business_id = ? AND idx = ?",
                canonical_json(leaf).decode(),
                leaf["type"],
                leaf["time"][:10] + " " + leaf["time"][11:19],
                bid,
                a,
            )
    code, out = verify(app)
    assert code == 1
    assert "FIRST PROBLEM" in out and f"business {bid}, leaf 7" in out
    assert "stored leaf hash" in out and "block 0" in out and "a leaf below 14 was changed" in out


def test_forged_leaf_for_an_entry_not_in_the_ledger(app: Flask, log: dict) -> None:
    bid = log["bid"]
    with app.app_context(), db.connection_context(), behind_the_api():
        n = chain.log_size(bid)
        leaf = json.loads(
            sql("SELECT data FROM chain_leaf WHERE business_id = ? AND idx = 1", bid)[0][0]
        )
        leaf["sequence"] = n
        leaf["content"]["entry"]["id"] = 999999
        data = canonical_json(leaf)
        with db.atomic():
            sql(
                "INSERT INTO chain_leaf (business_id, idx, type, time, actor_id, entry_id, data) "
                "VALUES (?, ?, 'entry.posted', '2026-03-01 00:00:00', NULL, 999999, ?)",
                bid,
                n,
                data.decode(),
            )
            from app.chain_store import PeeweeHashReader, append_hashes
            from chain.tlog import stored_hashes

            append_hashes(bid, n, stored_hashes(n, data, PeeweeHashReader(bid)))
    code, out = verify(app)
    assert code == 1
    assert first_problem(out) == (
        f"FIRST PROBLEM: business {bid}, leaf {n}, entry 999999: the leaf records an entry "
        "that is not in this business's ledger"
    )


def test_forged_membership_grant(app: Flask, log: dict) -> None:
    bid = log["bid"]
    with app.app_context(), db.connection_context(), behind_the_api():
        from app.events import LedgerEvent

        with db.atomic():
            n = chain.append_leaf(
                LedgerEvent(
                    "membership.granted",
                    bid,
                    None,
                    {"user_id": 4242, "role": "owner", "via": "invite"},
                )
            )
    code, out = verify(app)
    assert code == 1
    assert first_problem(out) == (
        f"FIRST PROBLEM: business {bid}, leaf {n}: the log makes user 4242 a owner, "
        "the membership table says not a member"
    )


def test_entry_inserted_behind_the_api(app: Flask, log: dict) -> None:
    bid = log["bid"]
    with app.app_context(), db.connection_context(), behind_the_api():
        sql(
            "INSERT INTO entry (business_id, number, date, memo, status, source, created_at, posted_at) "
            "VALUES (?, 900, '2026-03-02', 'ghost', 'posted', 'manual', '2026-03-02 00:00:00', '2026-03-02 00:00:00')",
            bid,
        )
        eid = sql("SELECT id FROM entry WHERE number = 900 AND business_id = ?", bid)[0][0]
    code, out = verify(app)
    assert code == 1
    assert (
        f"FIRST PROBLEM: business {bid}, entry {eid}: is posted in the ledger but has no leaf"
        in out
    )


def test_rewritten_checkpoint(app: Flask, log: dict) -> None:
    bid = log["bid"]
    with app.app_context(), db.connection_context(), behind_the_api():
        cp = sql("SELECT checkpoint FROM chain_block WHERE business_id = ? AND height = 1", bid)[0][
            0
        ]
        lines = cp.split("\n")
        lines[1] = str(int(lines[1]) - 1)
        sql(
            "UPDATE chain_block SET checkpoint = ? WHERE business_id = ? AND height = 1",
            "\n".join(lines),
            bid,
        )
    code, out = verify(app)
    assert code == 1
    assert first_problem(out).startswith(f"FIRST PROBLEM: business {bid}: block 1:")
    assert "signature" in first_problem(out)


def test_resigned_with_another_key(app: Flask, log: dict) -> None:
    bid = log["bid"]
    skey, _ = note.generate_key("test.suanpan/chain")
    with app.app_context(), db.connection_context(), behind_the_api():
        size, root = sql(
            "SELECT tree_size, root FROM chain_block WHERE business_id = ? AND height = 2", bid
        )[0]
        forged = sign_checkpoint(chain.origin(bid), size, bytes(root), note.new_signer(skey))
        sql(
            "UPDATE chain_block SET checkpoint = ? WHERE business_id = ? AND height = 2",
            forged,
            bid,
        )
    code, out = verify(app)
    assert code == 1
    assert first_problem(out) == (
        f"FIRST PROBLEM: business {bid}: block 2: checkpoint: note has no verifiable signatures"
    )


def test_changed_stored_hash(app: Flask, log: dict) -> None:
    bid = log["bid"]
    target = stored_hash_index(1, 2)  # the node over leaves 4 and 5
    with app.app_context(), db.connection_context(), behind_the_api():
        sql(
            "UPDATE chain_hash SET hash = ? WHERE business_id = ? AND idx = ?",
            bytes(32),
            bid,
            target,
        )
    code, out = verify(app)
    assert code == 1
    assert first_problem(out) == (
        f"FIRST PROBLEM: business {bid}, leaf 4: stored hash {target} (level 1, leaves [4, 6)) "
        "differs from the one recomputed from the leaves"
    )


def _roll_back(bid: int, size: int) -> None:
    sql("DELETE FROM chain_block WHERE business_id = ? AND end_leaf > ?", bid, size)
    sql("DELETE FROM chain_hash WHERE business_id = ? AND idx >= ?", bid, stored_hash_count(size))
    sql("DELETE FROM chain_leaf WHERE business_id = ? AND idx >= ?", bid, size)


def test_rolled_back_log(app: Flask, log: dict, tmp_path: Path) -> None:
    bid = log["bid"]
    with app.app_context(), db.connection_context():
        kept = tmp_path / "checkpoint.txt"
        kept.write_text(chain.latest_block(bid).checkpoint)  # the owner's copy, size 19
        with behind_the_api():
            _roll_back(bid, 14)  # back to the end of block 0; the entries after it stay
    code, out = verify(app, "--checkpoint", str(kept))
    assert code == 1
    assert "has no leaf in the log" in first_problem(out)
    assert (
        "external checkpoint has tree size 19 but the log has only 14 leaves: the log was rolled back"
        in out
    )
    # A thorough attacker also deletes the entries; only the kept checkpoint still sees it.
    with app.app_context(), db.connection_context(), behind_the_api():
        gone = [
            r[0]
            for r in sql(
                "SELECT id FROM entry WHERE business_id = ? AND id > ?",
                bid,
                log["entries"][-1]["id"],
            )
        ]
        for eid in gone:
            sql("DELETE FROM entry_line WHERE entry_id = ?", eid)
            sql("DELETE FROM entry WHERE id = ?", eid)
    code, out = verify(app)
    assert code == 0, out
    code, out = verify(app, "--checkpoint", str(kept))
    assert code == 1
    assert first_problem(out) == (
        f"FIRST PROBLEM: business {bid}: external checkpoint has tree size 19 but the log has "
        "only 14 leaves: the log was rolled back"
    )


def test_forked_log(app: Flask, log: dict, books: Api, tmp_path: Path) -> None:
    """Rolled back, then new events appended and sealed: same size, different history."""
    bid = log["bid"]
    with app.app_context(), db.connection_context():
        kept = tmp_path / "checkpoint.txt"
        kept.write_text(chain.latest_block(bid).checkpoint)
        with behind_the_api():
            _roll_back(bid, 14)
            later = [
                r[0]
                for r in sql(
                    "SELECT id FROM entry WHERE business_id = ? AND id > ?",
                    bid,
                    log["entries"][-1]["id"],
                )
            ]
            for eid in later:
                sql("DELETE FROM entry_line WHERE entry_id = ?", eid)
                sql("DELETE FROM entry WHERE id = ?", eid)
    for i in range(6):
        post_entry(books, bid, f"{i + 50}.00")
    seal(books, bid)
    code, out = verify(app)
    assert code == 0, out  # internally consistent: a new, re-signed history
    code, out = verify(app, "--checkpoint", str(kept))
    assert code == 1
    assert (
        "does not match the log's recomputed root at that size: the log was forked"
        in first_problem(out)
    )


def test_external_checkpoint_must_be_signed_by_the_node(
    app: Flask, log: dict, tmp_path: Path
) -> None:
    bid = log["bid"]
    skey, _ = note.generate_key("test.suanpan/chain")
    with app.app_context(), db.connection_context():
        block = chain.latest_block(bid)
        forged = sign_checkpoint(
            chain.origin(bid), block.tree_size, bytes(block.root), note.new_signer(skey)
        )
    kept = tmp_path / "cp.txt"
    kept.write_text(forged)
    code, out = verify(app, "--checkpoint", str(kept))
    assert code == 1 and "external checkpoint:" in first_problem(out)
    kept.write_text(format_checkpoint("x", 1, bytes(32)))
    code, _ = verify(app, "--checkpoint", str(kept), "--business", str(bid))
    assert code == 1


def test_verify_with_a_pinned_vkey(app: Flask, log: dict) -> None:
    with app.app_context():
        real = keyring.vkey()
    _, other = note.generate_key("test.suanpan/chain")
    assert verify(app, "--vkey", real)[0] == 0
    code, out = verify(app, "--vkey", other)
    assert code == 1 and "block 0" in first_problem(out)


def test_nightly_verify_alerts_the_owners(app: Flask, log: dict, books: Api) -> None:
    bid = log["bid"]
    with app.app_context(), db.connection_context():
        assert all(r.ok for r in verify_job(app))
    assert books.get(f"/businesses/{bid}/chain/alerts").get_json() == {"items": []}
    with app.app_context(), db.connection_context(), behind_the_api():
        sql("DELETE FROM chain_leaf WHERE business_id = ? AND idx = 3", bid)
    with app.app_context():
        reports = verify_job(app)
    assert [r.ok for r in reports if r.business_id == bid] == [False]
    alerts = books.get(f"/businesses/{bid}/chain/alerts").get_json()["items"]
    assert len(alerts) == 1 and alerts[0]["kind"] == "verify_failed"
    assert alerts[0]["message"].startswith(f"business {bid}, leaf 3: leaf 3 is missing")
