"""tlog-proof receipts: format round trip, verification, and each kind of tamper."""

from __future__ import annotations

import base64

import pytest

from chain import canonical_json, note
from chain.checkpoint import sign_checkpoint
from chain.errors import LeafMismatchError, MalformedError, ProofError, SignatureError
from chain.proof import prove_record
from chain.receipt import (
    TLOG_PROOF_HEADER,
    format_proof,
    issue_proof,
    parse_proof,
    verify_receipt,
)
from chain.tlog import MemoryHashStore, tree_hash

ORIGIN = "suanpan.example/ledger"


def event(i: int) -> bytes:
    return canonical_json({"seq": i, "amount_fen": 1000 + i, "memo": f"事件 {i}"})


@pytest.fixture(scope="module")
def log() -> dict:
    skey, vkey = note.generate_key(ORIGIN)
    store = MemoryHashStore()
    for i in range(21):
        store.append(event(i))
    signed = sign_checkpoint(ORIGIN, 21, tree_hash(21, store), note.new_signer(skey))
    return {"store": store, "vkey": vkey, "checkpoint": signed}


def receipt(log: dict, i: int) -> str:
    return issue_proof(event(i), i, prove_record(21, i, log["store"]), log["checkpoint"])


def test_format_parse_round_trip(log: dict) -> None:
    hashes = prove_record(21, 5, log["store"])
    text = format_proof(5, hashes, log["checkpoint"], extra=b"context")
    assert text.startswith(f"{TLOG_PROOF_HEADER}\nextra {base64.b64encode(b'context').decode()}")
    p = parse_proof(text)
    assert (p.index, list(p.hashes), p.checkpoint, p.extra) == (
        5,
        hashes,
        log["checkpoint"],
        b"context",
    )
    assert format_proof(p.index, p.hashes, p.checkpoint, p.extra) == text
    plain = format_proof(5, hashes, log["checkpoint"])
    assert plain.split("\n")[1] == "index 5"
    assert parse_proof(plain).extra is None


def test_every_leaf_verifies(log: dict) -> None:
    for i in range(21):
        got = verify_receipt(event(i), receipt(log, i), log["vkey"], origin=ORIGIN)
        assert (got.index, got.size, got.origin) == (i, 21, ORIGIN)
        assert got.root == tree_hash(21, log["store"])


def test_tampered_leaf(log: dict) -> None:
    with pytest.raises(LeafMismatchError):
        verify_receipt(event(4), receipt(log, 3), log["vkey"])


def test_tampered_proof_hash(log: dict) -> None:
    text = receipt(log, 3)
    lines = text.split("\n")
    h = bytearray(base64.b64decode(lines[3]))
    h[0] ^= 0x80
    lines[3] = base64.b64encode(h).decode()
    with pytest.raises(ProofError) as e:
        verify_receipt(event(3), "\n".join(lines), log["vkey"])
    assert not isinstance(e.value, LeafMismatchError)


def test_dropped_proof_hash(log: dict) -> None:
    lines = receipt(log, 3).split("\n")
    del lines[3]
    with pytest.raises(ProofError):
        verify_receipt(event(3), "\n".join(lines), log["vkey"])


def test_tampered_root_in_checkpoint(log: dict) -> None:
    text = receipt(log, 3)
    root64 = log["checkpoint"].split("\n")[2]
    other = base64.b64encode(bytes(32)).decode()
    with pytest.raises(SignatureError):
        verify_receipt(event(3), text.replace(root64, other), log["vkey"])


def test_tampered_signature(log: dict) -> None:
    text = receipt(log, 3)
    sig64 = text.rstrip("\n").rsplit(" ", 1)[1]
    raw = bytearray(base64.b64decode(sig64))
    raw[-1] ^= 1
    with pytest.raises(SignatureError):
        verify_receipt(event(3), text.replace(sig64, base64.b64encode(raw).decode()), log["vkey"])


def test_wrong_key_and_origin(log: dict) -> None:
    _, other = note.generate_key(ORIGIN)
    with pytest.raises(SignatureError):
        verify_receipt(event(3), receipt(log, 3), other)
    with pytest.raises(SignatureError):
        verify_receipt(event(3), receipt(log, 3), log["vkey"], origin="elsewhere.example")


def test_index_beyond_size(log: dict) -> None:
    text = receipt(log, 3).replace("index 3\n", "index 21\n")
    with pytest.raises(ProofError):
        verify_receipt(event(3), text, log["vkey"])


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.replace(TLOG_PROOF_HEADER, "c2sp.org/tlog-proof@v2"),
        lambda t: t.replace("index 3", "index 03"),
        lambda t: t.replace("index 3", "idx 3"),
        lambda t: t.replace("\n\n", "\n"),
        lambda t: t.split("\n\n")[0] + "\n\n",
        lambda t: t.replace("extra ", "extra !"),
    ],
)
def test_malformed(log: dict, mutate) -> None:
    with pytest.raises(MalformedError):
        verify_receipt(event(3), mutate(receipt(log, 3)), log["vkey"])


def test_malformed_vkey(log: dict) -> None:
    with pytest.raises(MalformedError):
        verify_receipt(event(3), receipt(log, 3), "not-a-key")
