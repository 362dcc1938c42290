"""Inclusion and consistency proofs at every size of a 300-leaf log, and tamper checks."""

from __future__ import annotations

from functools import cache

import pytest

from chain import ChainError, MalformedError, ProofError
from chain.hashing import leaf_hash, node_hash
from chain.proof import (
    check_record,
    check_tree,
    prove_record,
    prove_tree,
    root_from_inclusion_proof,
)
from chain.tlog import MemoryHashStore, tree_hash

N = 300


@pytest.fixture(scope="module")
def log() -> tuple[MemoryHashStore, list[bytes], list[bytes]]:
    """The store, the leaf hashes, and roots[n] for every size n."""
    store = MemoryHashStore()
    for i in range(N):
        store.append(f"entry {i}".encode())
    hashes = [leaf_hash(f"entry {i}".encode()) for i in range(N)]
    roots = [tree_hash(n, store) for n in range(N + 1)]
    return store, hashes, roots


def naive_paths(hashes: list[bytes]):
    """RFC 9162 §2.1.3.1 PATH and §2.1.4.1 PROOF, written directly from the spec."""

    @cache
    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return hashes[lo]
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        return node_hash(mth(lo, lo + k), mth(lo + k, hi))

    def path(m: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo == 1:
            return []
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if m < k:
            return [*path(m, lo, lo + k), mth(lo + k, hi)]
        return [*path(m - k, lo + k, hi), mth(lo, lo + k)]

    def subproof(m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        if m == hi - lo:
            return [] if b else [mth(lo, hi)]
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if m <= k:
            return [*subproof(m, lo, lo + k, b), mth(lo + k, hi)]
        return [*subproof(m - k, lo + k, hi, False), mth(lo, lo + k)]

    return (lambda m, n: path(m, 0, n)), (lambda m, n: subproof(m, 0, n, True))


def test_inclusion_every_leaf_every_size(log) -> None:
    store, hashes, roots = log
    for t in range(1, N + 1):
        for n in range(t):
            proof = prove_record(t, n, store)
            check_record(proof, t, roots[t], n, hashes[n])


def test_consistency_every_pair_of_sizes(log) -> None:
    store, _, roots = log
    for t in range(1, N + 1):
        for n in range(1, t + 1):
            proof = prove_tree(t, n, store)
            check_tree(proof, t, roots[t], n, roots[n])


def test_proofs_match_rfc_definitions(log) -> None:
    store, hashes, _ = log
    path, proof = naive_paths(hashes)
    for t in [*range(1, 40), 64, 127, 128, 129, 255, 256, 257, N]:
        for n in range(t):
            assert prove_record(t, n, store) == path(n, t)
        for n in range(1, t + 1):
            assert prove_tree(t, n, store) == proof(n, t)


def _flips(proof: list[bytes]):
    """Every proof with one hash altered by one bit."""
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        yield bad


def test_any_altered_hash_fails_inclusion(log) -> None:
    store, hashes, roots = log
    flip = bytes(31) + b"\x01"
    for t, n in [(1, 0), (2, 1), (7, 3), (64, 0), (N, 0), (N, 137), (N, N - 1)]:
        proof = prove_record(t, n, store)
        for bad in _flips(proof):
            with pytest.raises(ProofError):
                check_record(bad, t, roots[t], n, hashes[n])
        for bad_leaf in (
            hashes[(n + 1) % N],
            bytes(a ^ b for a, b in zip(hashes[n], flip, strict=True)),
        ):
            with pytest.raises(ProofError):
                check_record(proof, t, roots[t], n, bad_leaf)
        with pytest.raises(ProofError):
            check_record(proof, t, roots[t - 1] if t > 1 else roots[2], n, hashes[n])
        with pytest.raises(ProofError):
            check_record([*proof, hashes[0]], t, roots[t], n, hashes[n])
        if proof:
            with pytest.raises(ProofError):
                check_record(proof[:-1], t, roots[t], n, hashes[n])
            if t > 1 and n + 1 < t:
                with pytest.raises(ProofError):
                    check_record(proof, t, roots[t], n + 1, hashes[n])


def test_any_altered_hash_fails_consistency(log) -> None:
    store, _, roots = log
    for t, n in [(2, 1), (8, 3), (9, 8), (N, 1), (N, 100), (N, 256), (N, N - 1)]:
        proof = prove_tree(t, n, store)
        for bad in _flips(proof):
            with pytest.raises(ProofError):
                check_tree(bad, t, roots[t], n, roots[n])
        with pytest.raises(ProofError):
            check_tree(proof, t, roots[t], n, roots[n - 1] if n > 1 else roots[2])
        with pytest.raises(ProofError):
            check_tree(proof, t, roots[t - 1], n, roots[n])
        with pytest.raises(ProofError):
            check_tree(proof[1:], t, roots[t], n, roots[n])


def test_invalid_inputs(log) -> None:
    store, hashes, roots = log
    with pytest.raises(ValueError):
        prove_record(5, 5, store)
    with pytest.raises(ValueError):
        prove_tree(5, 0, store)
    with pytest.raises(ValueError):
        prove_tree(5, 6, store)
    with pytest.raises(ProofError):
        check_record([], 0, roots[0], 0, hashes[0])
    with pytest.raises(ProofError):
        check_tree([], 0, roots[0], 0, roots[0])  # size 0 is always an error
    with pytest.raises(MalformedError):
        check_record(prove_record(4, 1, store), 4, roots[4][:31], 1, hashes[1])
    with pytest.raises(MalformedError):
        check_record([b"x" * 33], 2, roots[2], 1, hashes[1])
    with pytest.raises(ChainError):
        root_from_inclusion_proof(0, 1, b"", [])


def test_equal_sizes(log) -> None:
    _, _, roots = log
    check_tree([], 5, roots[5], 5, roots[5])
    with pytest.raises(ProofError):
        check_tree([roots[1]], 5, roots[5], 5, roots[5])
    with pytest.raises(ProofError):
        check_tree([], 5, roots[5], 5, roots[4])
