"""scripts/verify_receipt.py, run as a third party would: a subprocess, no project imports."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chain import canonical_json, note
from chain.checkpoint import sign_checkpoint
from chain.proof import prove_record
from chain.receipt import issue_proof
from chain.tlog import MemoryHashStore, stored_hash_index, tree_hash

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_receipt.py"
ORIGIN = "suanpan.example/ledger"


def event(i: int) -> str:
    return canonical_json({"seq": i, "amount_fen": 500 * i, "payee": "张三"}).decode()


@pytest.fixture(scope="module")
def issued() -> dict:
    skey, vkey = note.generate_key(ORIGIN)
    store = MemoryHashStore()
    for i in range(13):
        store.append(event(i).encode())
    cp = sign_checkpoint(ORIGIN, 13, tree_hash(13, store), note.new_signer(skey))
    proof = issue_proof(event(6).encode(), 6, prove_record(13, 6, store), cp)
    return {"leaf": event(6), "proof": proof, "vkey": vkey}


def run(tmp_path: Path, receipt: dict, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt, ensure_ascii=False), encoding="utf-8")
    # Run from an empty directory with a clean PYTHONPATH: the script must not need chain/.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(path), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )


def test_ok_with_pinned_key(tmp_path: Path, issued: dict) -> None:
    r = run(tmp_path, issued, "--vkey", issued["vkey"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"OK index=6 size=13 origin={ORIGIN}"
    assert "WARNING" not in r.stderr


def test_ok_trusting_receipt_key_warns(tmp_path: Path, issued: dict) -> None:
    r = run(tmp_path, issued)
    assert r.returncode == 0, r.stderr
    assert "WARNING" in r.stderr


def _flip_b64(s: str, i: int = 0) -> str:
    raw = bytearray(base64.b64decode(s))
    raw[i] ^= 1
    return base64.b64encode(raw).decode()


def test_tampered_leaf(tmp_path: Path, issued: dict) -> None:
    r = run(tmp_path, {**issued, "leaf": event(7)}, "--vkey", issued["vkey"])
    assert r.returncode == 1
    assert "FAILED leaf" in r.stderr


def test_tampered_proof_hash(tmp_path: Path, issued: dict) -> None:
    lines = issued["proof"].split("\n")
    lines[3] = _flip_b64(lines[3])
    r = run(tmp_path, {**issued, "proof": "\n".join(lines)}, "--vkey", issued["vkey"])
    assert r.returncode == 1
    assert "FAILED proof" in r.stderr


def test_tampered_root(tmp_path: Path, issued: dict) -> None:
    head, cp = issued["proof"].split("\n\n", 1)
    cp_lines = cp.split("\n")
    cp_lines[2] = _flip_b64(cp_lines[2])
    proof = head + "\n\n" + "\n".join(cp_lines)
    r = run(tmp_path, {**issued, "proof": proof}, "--vkey", issued["vkey"])
    assert r.returncode == 1
    assert "FAILED signature" in r.stderr


def test_tampered_signature(tmp_path: Path, issued: dict) -> None:
    sig = issued["proof"].rstrip("\n").rsplit(" ", 1)[1]
    proof = issued["proof"].replace(sig, _flip_b64(sig, 20))
    r = run(tmp_path, {**issued, "proof": proof}, "--vkey", issued["vkey"])
    assert r.returncode == 1
    assert "FAILED signature" in r.stderr


def test_other_key_pinned(tmp_path: Path, issued: dict) -> None:
    _, other = note.generate_key(ORIGIN)
    r = run(tmp_path, issued, "--vkey", other)
    assert r.returncode == 1
    assert "FAILED signature" in r.stderr
    assert "different log key" in r.stderr


def test_malformed_input(tmp_path: Path, issued: dict) -> None:
    r = run(tmp_path, {**issued, "proof": issued["proof"].replace("index 6", "index 06")})
    assert r.returncode == 1
    assert "FAILED malformed" in r.stderr
    path = tmp_path / "bad.json"
    path.write_text("not json")
    r = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(path)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2
    assert "FAILED malformed" in r.stderr


def test_script_is_standalone() -> None:
    source = SCRIPT.read_text()
    assert "import chain" not in source and "from chain" not in source
    assert "from app" not in source


def _load_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("verify_receipt_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_inclusion_math_matches_chain() -> None:
    """The script's iterative RFC 9162 §2.1.3.2 loop agrees with chain's recursive one."""
    script = _load_script()
    store = MemoryHashStore()
    for i in range(70):
        store.append(event(i).encode())
    for t in range(1, 71):
        root = tree_hash(t, store)
        for n in range(t):
            lh = store.read_hashes([stored_hash_index(0, n)])[0]
            assert script.root_from_proof(n, t, lh, prove_record(t, n, store)) == root
