"""Block headers: canonical hashing and hash-chain validation."""

from __future__ import annotations

import dataclasses
import json

import pytest

from chain import note
from chain.blocks import GENESIS_PREV_HASH, BlockHeader, utc_timestamp, verify_chain
from chain.checkpoint import sign_checkpoint
from chain.errors import BrokenChainError, MalformedError
from chain.tlog import MemoryHashStore, tree_hash

ORIGIN = "suanpan.example/ledger"


@pytest.fixture(scope="module")
def chain() -> tuple[list[BlockHeader], str]:
    skey, vkey = note.generate_key(ORIGIN)
    signer = note.new_signer(skey)
    store = MemoryHashStore()
    headers: list[BlockHeader] = []
    prev_hash, lo = GENESIS_PREV_HASH, 0
    for height, count in enumerate([3, 1, 0, 5, 8]):
        for i in range(count):
            store.append(f"block {height} leaf {i}".encode())
        hi, root = lo + count, tree_hash(lo + count, store)
        h = BlockHeader(
            height=height,
            prev_hash=prev_hash,
            first_leaf=lo,
            end_leaf=hi,
            tree_size=hi,
            root=root,
            sealed_at=f"2025-05-0{height + 1}T12:00:00Z",
            checkpoint=sign_checkpoint(ORIGIN, hi, root, signer),
        )
        headers.append(h)
        prev_hash, lo = h.block_hash(), hi
    return headers, vkey


def test_valid_chain(chain) -> None:
    headers, vkey = chain
    verify_chain(headers)
    verify_chain(headers, verifiers=[note.new_verifier(vkey)])
    verify_chain(headers[2:], prev=headers[1])


def test_canonical_bytes_and_round_trip(chain) -> None:
    h = chain[0][1]
    d = json.loads(h.canonical_bytes())
    assert d["format"] == "suanpan-block/v1"
    assert list(d) == sorted(d)  # JCS sorts keys
    assert BlockHeader.from_dict(d) == h
    assert BlockHeader.from_dict(d).block_hash() == h.block_hash()
    with pytest.raises(MalformedError):
        BlockHeader.from_dict({**d, "root": d["root"].upper()})
    with pytest.raises(MalformedError):
        BlockHeader.from_dict({**d, "surprise": 1})


@pytest.mark.parametrize(
    "field,value",
    [
        ("height", 9),
        ("prev_hash", b"\x01" * 32),
        ("first_leaf", 5),
        ("end_leaf", 99),
        ("tree_size", 5),
        ("root", b"\x02" * 32),
        ("sealed_at", "2025-05-03 12:00:00"),
        ("sealed_at", "2025-13-03T12:00:00Z"),
        ("sealed_at", "2020-01-01T00:00:00Z"),
        ("checkpoint", "garbage"),
    ],
)
def test_changed_header_is_caught(chain, field, value) -> None:
    headers, _ = chain
    broken = list(headers)
    broken[2] = dataclasses.replace(headers[2], **{field: value})
    with pytest.raises(BrokenChainError) as e:
        verify_chain(broken)
    assert e.value.height in (2, 9)  # the changed header itself (9: its new height)


def test_self_consistent_change_caught_by_next_block(chain) -> None:
    headers, _ = chain
    broken = list(headers)
    broken[2] = dataclasses.replace(headers[2], sealed_at="2025-05-03T12:30:00Z")
    verify_chain(broken[:3])  # nothing wrong with the changed header on its own
    with pytest.raises(BrokenChainError) as e:
        verify_chain(broken)
    assert e.value.height == 3
    assert "prev_hash" in str(e.value)


def test_forged_checkpoint_signature_caught(chain) -> None:
    headers, vkey = chain
    skey2, _ = note.generate_key(ORIGIN)
    h = headers[0]
    forged = dataclasses.replace(
        h, checkpoint=sign_checkpoint(ORIGIN, h.tree_size, h.root, note.new_signer(skey2))
    )
    verify_chain([forged])  # structure alone is fine...
    with pytest.raises(BrokenChainError):  # ...but not signed by the log key
        verify_chain([forged], verifiers=[note.new_verifier(vkey)])


def test_dropped_or_reordered_block_caught(chain) -> None:
    headers, _ = chain
    with pytest.raises(BrokenChainError):
        verify_chain(headers[:2] + headers[3:])
    with pytest.raises(BrokenChainError):
        verify_chain([headers[1], headers[0]])


def test_utc_timestamp() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    t = datetime(2025, 5, 3, 20, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    assert utc_timestamp(t) == "2025-05-03T12:00:00Z"
    assert utc_timestamp().endswith("Z")
    with pytest.raises(ValueError):
        utc_timestamp(datetime(2025, 5, 3))
    assert utc_timestamp(datetime(2025, 1, 1, tzinfo=UTC)) == "2025-01-01T00:00:00Z"
