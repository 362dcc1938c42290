"""Checkpoints: strict parsing, round trip, and the Tessera test log."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from chain import MemoryHashStore, note, tree_hash
from chain.checkpoint import (
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from chain.errors import MalformedError, SignatureError
from chain.hashing import leaf_hash

ROOT = bytes(range(32))
ROOT64 = base64.b64encode(ROOT).decode()


def test_format_parse_round_trip() -> None:
    text = format_checkpoint("example.org/log", 42, ROOT)
    assert text == f"example.org/log\n42\n{ROOT64}\n"
    cp = parse_checkpoint(text)
    assert (cp.origin, cp.size, cp.root, cp.extensions) == ("example.org/log", 42, ROOT, ())
    assert format_checkpoint(cp.origin, cp.size, cp.root) == text


def test_extension_lines_parsed() -> None:
    cp = parse_checkpoint(f"o\n0\n{ROOT64}\next one\next two\n")
    assert cp.extensions == ("ext one", "ext two")


@pytest.mark.parametrize(
    "text",
    [
        f"o\n42\n{ROOT64}",  # no final newline
        "o\n42\n",  # no root
        f"\n42\n{ROOT64}\n",  # empty origin
        f"o\n042\n{ROOT64}\n",  # leading zero
        f"o\n+42\n{ROOT64}\n",
        f"o\n-1\n{ROOT64}\n",
        f"o\n4 2\n{ROOT64}\n",
        f"o\n٤٢\n{ROOT64}\n",  # non-ASCII digits
        f"o\n\n{ROOT64}\n",
        "o\n42\n" + base64.b64encode(bytes(31)).decode() + "\n",  # short hash
        "o\n42\n" + base64.b64encode(bytes(33)).decode() + "\n",  # long hash
        "o\n42\n" + ROOT64.rstrip("=") + "\n",  # missing padding
        "o\n42\n" + ROOT64[:-2] + "B=\n",  # non-canonical trailing bits
        f"o\n42\n{ROOT64}\n\n",  # empty extension line
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(MalformedError):
        parse_checkpoint(text)


def test_format_rejects() -> None:
    with pytest.raises(MalformedError):
        format_checkpoint("", 1, ROOT)
    with pytest.raises(MalformedError):
        format_checkpoint("a\nb", 1, ROOT)
    with pytest.raises(MalformedError):
        format_checkpoint("o", -1, ROOT)
    with pytest.raises(MalformedError):
        format_checkpoint("o", 1, ROOT[:5])


def test_sign_and_open() -> None:
    skey, vkey = note.generate_key("example.org/log")
    signed = sign_checkpoint("example.org/log", 7, ROOT, note.new_signer(skey))
    cp, opened = open_checkpoint(signed, [note.new_verifier(vkey)], origin="example.org/log")
    assert (cp.size, cp.root) == (7, ROOT)
    assert opened.sigs[0].name == "example.org/log"
    with pytest.raises(SignatureError):
        open_checkpoint(signed, [note.new_verifier(vkey)], origin="other.org/log")


def test_vector_checkpoints_parse(conformance: Path) -> None:
    vectors = json.loads((conformance / "signed-note/signed-note-vectors.json").read_text())
    checked = 0
    for v in vectors["notes"]:
        if "checkpoint" in v:
            text = v["note"][: v["note"].rindex("\n\n") + 1]
            cp = parse_checkpoint(text)
            want = v["checkpoint"]
            assert (cp.origin, cp.size) == (want["origin"], want["size"])
            assert base64.b64encode(cp.root).decode() == want["root_b64"]
            checked += 1
    assert checked == 3  # two Go sumdb tree notes and the C2SP example


def test_tessera_log(conformance: Path) -> None:
    """All 16 checkpoints verify, and state the RFC 6962 root of the first N entries."""
    log_dir = conformance / "tlog-tiles/tessera-testdata-log"
    data = json.loads((log_dir / "tiles-and-bundles.json").read_text())
    verifier = note.new_verifier(data["log"]["vkey"])
    entries = [e.encode() for e in data["log"]["entries_in_order"]]
    store = MemoryHashStore()
    for e in entries:
        store.append(e)
    for n in range(16):
        cp, _ = open_checkpoint((log_dir / f"checkpoint.{n}").read_bytes(), [verifier])
        assert (cp.origin, cp.size) == (data["log"]["origin"], n)
        assert cp.root == tree_hash(n, store), n
    assert (log_dir / "checkpoint").read_bytes() == (log_dir / "checkpoint.15").read_bytes()

    files = {k: bytes.fromhex(v) for k, v in data["files_hex"].items()}
    for w in range(1, 16):
        tile = files[f"tile/0/000.p/{w}"]
        assert tile == b"".join(leaf_hash(e) for e in entries[:w])
        bundle, got = files[f"tile/entries/000.p/{w}"], []
        while bundle:
            size = int.from_bytes(bundle[:2], "big")
            got.append(bundle[2 : 2 + size])
            bundle = bundle[2 + size :]
        assert got == entries[:w]


def test_tessera_checkpoint_tamper_detected(conformance: Path) -> None:
    log_dir = conformance / "tlog-tiles/tessera-testdata-log"
    data = json.loads((log_dir / "tiles-and-bundles.json").read_text())
    verifier = note.new_verifier(data["log"]["vkey"])
    text = (log_dir / "checkpoint.5").read_text()
    with pytest.raises(SignatureError):
        open_checkpoint(text.replace("\n5\n", "\n6\n", 1), [verifier])
