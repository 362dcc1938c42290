"""Merkle inclusion and consistency proofs (RFC 9162 §2.1.3, §2.1.4), after Go's sumdb/tlog.

prove_* read stored hashes through a HashReader (one batched call each); check_* need
nothing but hashes, so an offline verifier can use them with a proof and a signed root.
Proofs are lists of 32-byte hashes in RFC order: from the leaf (or old subtree) up to the
root's child.

Verification follows transparency-dev/merkle semantics, which its public probes pin down:
an index must be below the tree size; a consistency proof from size 0 is always an error;
between equal sizes the proof must be empty and the roots equal (compared as given); no
extra or missing hash is tolerated; any hash that enters a computation must be 32 bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from chain.errors import MalformedError, ProofError
from chain.hashing import HASH_SIZE, node_hash
from chain.tlog import HashReader, maxpow2, read_hashes_checked, subtree_hash, subtree_indexes

# RFC 9162 §2.1.3 "Merkle Inclusion Proofs" (RFC 6962 calls it a "Merkle audit path").
# https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3


def prove_record(t: int, n: int, reader: HashReader) -> list[bytes]:
    """Return the proof that the tree of size t contains leaf n."""
    if not 0 <= n < t:
        raise ValueError(f"tlog: invalid inputs in prove_record (t={t}, n={n})")
    indexes = _leaf_proof_indexes(0, t, n, [])
    proof, rest = _leaf_proof(0, t, n, read_hashes_checked(reader, indexes))
    assert not rest, "tlog: bad index math in prove_record"
    return proof


def check_record(proof: Sequence[bytes], t: int, th: bytes, n: int, h: bytes) -> None:
    """Raise unless ``proof`` shows the tree of size t with root th has leaf hash h at n."""
    if root_from_inclusion_proof(n, t, h, proof) != _hash_arg(th, "root"):
        raise ProofError("inclusion proof does not lead to the expected root")


def root_from_inclusion_proof(n: int, t: int, h: bytes, proof: Sequence[bytes]) -> bytes:
    """Return the root implied by an inclusion proof for leaf hash h at index n of size t.

    What an offline verifier computes before comparing with a signed checkpoint root.
    """
    if not 0 <= n < t:
        raise ProofError(f"leaf index {n} is not below tree size {t}")
    return _run_record_proof(_hash_list(proof), 0, t, n, _hash_arg(h, "leaf hash"))


def _leaf_proof_indexes(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    """List the stored indexes needed to prove leaf n is in leaves [lo, hi)."""
    assert lo <= n < hi, "tlog: bad math in _leaf_proof_indexes"
    if lo + 1 == hi:
        return need
    k, _ = maxpow2(hi - lo)
    if n < lo + k:
        _leaf_proof_indexes(lo, lo + k, n, need)
        subtree_indexes(lo + k, hi, need)
    else:
        subtree_indexes(lo, lo + k, need)
        _leaf_proof_indexes(lo + k, hi, n, need)
    return need


def _leaf_proof(
    lo: int, hi: int, n: int, hashes: Sequence[bytes]
) -> tuple[list[bytes], Sequence[bytes]]:
    """Build the proof that leaf n is in [lo, hi) from the listed hashes; return leftovers."""
    assert lo <= n < hi, "tlog: bad math in _leaf_proof"
    if lo + 1 == hi:
        # Reached the leaf: the verifier knows its hash, so it is not sent.
        return [], hashes
    # Walk down toward n, recording the hash of the path not taken.
    k, _ = maxpow2(hi - lo)
    if n < lo + k:
        p, hashes = _leaf_proof(lo, lo + k, n, hashes)
        th, hashes = subtree_hash(lo + k, hi, hashes)
    else:
        th, hashes = subtree_hash(lo, lo + k, hashes)
        p, hashes = _leaf_proof(lo + k, hi, n, hashes)
    p.append(th)
    return p, hashes


def _run_record_proof(p: Sequence[bytes], lo: int, hi: int, n: int, h: bytes) -> bytes:
    """Return the hash of subtree [lo, hi) implied by proof p for leaf hash h at n."""
    assert lo <= n < hi, "tlog: bad math in _run_record_proof"
    if lo + 1 == hi:
        if p:
            raise ProofError("inclusion proof has too many hashes")
        return h
    if not p:
        raise ProofError("inclusion proof has too few hashes")
    k, _ = maxpow2(hi - lo)
    if n < lo + k:
        return node_hash(_run_record_proof(p[:-1], lo, lo + k, n, h), p[-1])
    return node_hash(p[-1], _run_record_proof(p[:-1], lo + k, hi, n, h))


# RFC 9162 §2.1.4 "Merkle Consistency Proofs".
# https://www.rfc-editor.org/rfc/rfc9162#section-2.1.4


def prove_tree(t: int, n: int, reader: HashReader) -> list[bytes]:
    """Return the proof that the tree of size t contains the tree of size n as a prefix."""
    if not 1 <= n <= t:
        raise ValueError(f"tlog: invalid inputs in prove_tree (t={t}, n={n})")
    indexes = _tree_proof_indexes(0, t, n, [])
    proof, rest = _tree_proof(0, t, n, read_hashes_checked(reader, indexes))
    assert not rest, "tlog: bad index math in prove_tree"
    return proof


def check_tree(proof: Sequence[bytes], t: int, th: bytes, n: int, h: bytes) -> None:
    """Raise unless ``proof`` shows the tree (t, th) extends the tree (n, h)."""
    if n < 1:
        raise ProofError("consistency proof from an empty tree is not defined")
    if n > t:
        raise ProofError(f"old tree size {n} exceeds new tree size {t}")
    if n == t:
        # Nothing to hash: the roots are compared as given, as transparency-dev does
        # (its probe "sizes are equal (one) and proof is empty" uses 12-byte roots).
        if proof:
            raise ProofError("consistency proof between equal sizes must be empty")
        if bytes(th) != bytes(h):
            raise ProofError("equal tree sizes but different roots")
        return
    th = _hash_arg(th, "new root")
    h = _hash_arg(h, "old root")
    h2, th2 = _run_tree_proof(_hash_list(proof), 0, t, n, h)
    if th2 != th or h2 != h:
        raise ProofError("consistency proof does not lead to the expected roots")


def _tree_proof_indexes(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    """List the stored indexes for the part of the proof about leaves [lo, hi)."""
    assert lo < n <= hi, "tlog: bad math in _tree_proof_indexes"
    if n == hi:
        return need if lo == 0 else subtree_indexes(lo, hi, need)
    k, _ = maxpow2(hi - lo)
    if n <= lo + k:
        _tree_proof_indexes(lo, lo + k, n, need)
        subtree_indexes(lo + k, hi, need)
    else:
        subtree_indexes(lo, lo + k, need)
        _tree_proof_indexes(lo + k, hi, n, need)
    return need


def _tree_proof(
    lo: int, hi: int, n: int, hashes: Sequence[bytes]
) -> tuple[list[bytes], Sequence[bytes]]:
    """Build the part of the proof about leaves [lo, hi); return leftover hashes."""
    assert lo < n <= hi, "tlog: bad math in _tree_proof"
    if n == hi:
        if lo == 0:
            # This subtree is exactly the old tree: the verifier knows its hash.
            return [], hashes
        th, hashes = subtree_hash(lo, hi, hashes)
        return [th], hashes
    k, _ = maxpow2(hi - lo)
    if n <= lo + k:
        p, hashes = _tree_proof(lo, lo + k, n, hashes)
        th, hashes = subtree_hash(lo + k, hi, hashes)
    else:
        th, hashes = subtree_hash(lo, lo + k, hashes)
        p, hashes = _tree_proof(lo + k, hi, n, hashes)
    p.append(th)
    return p, hashes


def _run_tree_proof(
    p: Sequence[bytes], lo: int, hi: int, n: int, old: bytes
) -> tuple[bytes, bytes]:
    """Return the (old, new) hashes of subtree [lo, hi) implied by proof p."""
    assert lo < n <= hi, "tlog: bad math in _run_tree_proof"
    if n == hi:
        if lo == 0:
            if p:
                raise ProofError("consistency proof has too many hashes")
            return old, old
        if len(p) != 1:
            raise ProofError("consistency proof has the wrong number of hashes")
        return p[0], p[0]
    if not p:
        raise ProofError("consistency proof has too few hashes")
    k, _ = maxpow2(hi - lo)
    if n <= lo + k:
        oh, th = _run_tree_proof(p[:-1], lo, lo + k, n, old)
        return oh, node_hash(th, p[-1])
    oh, th = _run_tree_proof(p[:-1], lo + k, hi, n, old)
    return node_hash(p[-1], oh), node_hash(p[-1], th)


def _hash_arg(h: bytes, what: str) -> bytes:
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        raise MalformedError(f"{what} is not a {HASH_SIZE}-byte hash")
    return bytes(h)


def _hash_list(proof: Sequence[bytes] | None) -> list[bytes]:
    if len(proof or ()) > 64:  # deeper than any tree of ≤ 2⁶⁴ leaves
        raise ProofError("proof has too many hashes")
    return [_hash_arg(h, "proof entry") for h in proof or ()]
