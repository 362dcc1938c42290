"""RFC 6962/9162 conformance: transparency-dev probes and the 8-leaf reference tree."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from chain import ChainError, MemoryHashStore, check_record, check_tree, prove_record, prove_tree
from chain.hashing import EMPTY_ROOT, leaf_hash, node_hash
from chain.tlog import tree_hash


def _b64(s: str | None) -> bytes:
    return base64.b64decode(s or "")


def _probe_result(check, *args) -> bool:
    """True if the check raised a ChainError (nothing else is an acceptable failure)."""
    try:
        check(*args)
    except ChainError:
        return True
    return False


def test_probe_count(conformance: Path) -> None:
    probes = list((conformance / "rfc6962-merkle/transparency-dev-merkle/testdata").rglob("*.json"))
    assert len(probes) == 196  # the count published in the conformance README


def test_inclusion_probe(conformance: Path, inclusion_probe: Path) -> None:
    p = json.loads(inclusion_probe.read_text())
    proof = [_b64(h) for h in p["proof"] or []]
    failed = _probe_result(
        check_record, proof, p["treeSize"], _b64(p["root"]), p["leafIdx"], _b64(p["leafHash"])
    )
    assert failed == p["wantErr"], p["desc"]


def test_consistency_probe(conformance: Path, consistency_probe: Path) -> None:
    p = json.loads(consistency_probe.read_text())
    proof = [_b64(h) for h in p["proof"] or []]
    failed = _probe_result(
        check_tree, proof, p["size2"], _b64(p["root2"]), p["size1"], _b64(p["root1"])
    )
    assert failed == p["wantErr"], p["desc"]


@pytest.fixture(scope="module")
def reference(conformance: Path) -> dict:
    return json.loads((conformance / "rfc6962-merkle/reference-tree-8-leaves.json").read_text())


@pytest.fixture(scope="module")
def reference_store(reference: dict) -> MemoryHashStore:
    store = MemoryHashStore()
    for leaf in reference["leaves"]:
        store.append(bytes.fromhex(leaf))
    return store


def test_hasher_vectors(reference: dict) -> None:
    for v in reference["hasher_vectors"]:
        if v["kind"] == "empty_root":
            got = EMPTY_ROOT
        elif v["kind"] == "leaf":
            got = leaf_hash(bytes.fromhex(v["leaf"]))
        else:
            got = node_hash(bytes.fromhex(v["left"]), bytes.fromhex(v["right"]))
        assert got.hex() == v["want"], v["desc"]


def test_reference_roots(reference: dict, reference_store: MemoryHashStore) -> None:
    roots = reference["roots_by_tree_size"]["roots"]
    assert [tree_hash(n, reference_store).hex() for n in range(9)] == roots


def test_reference_node_hashes(reference: dict, reference_store: MemoryHashStore) -> None:
    from chain.tlog import stored_hash_index

    for level, row in enumerate(reference["node_hashes_by_level"]["levels"]):
        for n, want in enumerate(row):
            got = reference_store.read_hashes([stored_hash_index(level, n)])[0]
            assert got.hex() == want, (level, n)


def test_reference_inclusion_proofs(reference: dict, reference_store: MemoryHashStore) -> None:
    for v in reference["inclusion_proofs"]:
        proof = prove_record(v["tree_size"], v["leaf_index"], reference_store)
        assert [h.hex() for h in proof] == v["proof"]
        check_record(
            proof,
            v["tree_size"],
            bytes.fromhex(v["root"]),
            v["leaf_index"],
            bytes.fromhex(v["leaf_hash"]),
        )


def test_reference_consistency_proofs(reference: dict, reference_store: MemoryHashStore) -> None:
    for v in reference["consistency_proofs"]:
        proof = prove_tree(v["size2"], v["size1"], reference_store)
        assert [h.hex() for h in proof] == v["proof"]
        check_tree(
            proof, v["size2"], bytes.fromhex(v["root2"]), v["size1"], bytes.fromhex(v["root1"])
        )
