"""Receipts: offline-verifiable proofs that an entry is in the log (c2sp.org/tlog-proof@v1).

Format source: C2SP/C2SP ``tlog-proof.md`` (https://c2sp.org/tlog-proof)::

    c2sp.org/tlog-proof@v1
    extra <base64>            (optional, unauthenticated)
    index <zero-based index, ASCII decimal, no leading zeroes>
    <base64 hash>             (zero or more: the RFC 6962 audit path, leaf sibling first)

    <the signed checkpoint note, verbatim>

A receipt binds a leaf to a signed tree head, so a member can prove a ledger event was
recorded without trusting (or even reaching) our server: they need the leaf, the receipt
and the log's public key. Our receipts carry the leaf hash as ``extra``; it is never
trusted, only used to tell "this is not the receipt's leaf" apart from "bad proof".
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from chain import note
from chain.checkpoint import open_checkpoint, parse_hash
from chain.errors import (
    LeafMismatchError,
    MalformedError,
    ProofError,
    SignatureError,
    UnverifiedNoteError,
)
from chain.hashing import HASH_SIZE, leaf_hash
from chain.proof import root_from_inclusion_proof

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_HASHES = 64
MAX_PROOF_BYTES = 1_000_000


@dataclass(frozen=True)
class TlogProof:
    """A parsed tlog-proof: leaf index, audit path, signed checkpoint, optional extra data."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None


@dataclass(frozen=True)
class VerifiedReceipt:
    """What a verified receipt establishes: leaf ``index`` is in the tree (size, root)."""

    index: int
    size: int
    root: bytes
    origin: str


def format_proof(
    index: int, hashes: Sequence[bytes], checkpoint: str, extra: bytes | None = None
) -> str:
    """Encode a tlog-proof from an inclusion proof and a signed checkpoint note."""
    if index < 0:
        raise MalformedError("proof index must not be negative")
    if any(len(h) != HASH_SIZE for h in hashes):
        raise MalformedError("proof hashes must be 32 bytes")
    lines = [TLOG_PROOF_HEADER]
    if extra is not None:
        lines.append(f"extra {base64.b64encode(extra).decode()}")
    lines.append(f"index {index}")
    lines.extend(base64.b64encode(h).decode() for h in hashes)
    return "\n".join(lines) + "\n\n" + checkpoint


def parse_proof(text: str) -> TlogProof:
    """Decode a tlog-proof; the checkpoint is returned verbatim, not yet verified."""
    if len(text) > MAX_PROOF_BYTES:
        raise MalformedError("proof too large")
    head, sep, checkpoint = text.partition("\n\n")
    if not sep or not checkpoint:
        raise MalformedError("proof has no checkpoint after a blank line")
    lines = head.split("\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise MalformedError(f"proof must start with {TLOG_PROOF_HEADER!r}")
    i = 1
    extra = None
    if i < len(lines) and lines[i].startswith("extra "):
        extra = _canonical_b64(lines[i][len("extra ") :], "extra data")
        i += 1
    if i >= len(lines) or not lines[i].startswith("index "):
        raise MalformedError("proof has no 'index' line")
    index_s = lines[i][len("index ") :]
    if not index_s.isascii() or not index_s.isdigit() or str(int(index_s)) != index_s:
        raise MalformedError(f"proof index {index_s!r} is not a canonical decimal")
    hash_lines = lines[i + 1 :]
    if len(hash_lines) > MAX_PROOF_HASHES:
        raise MalformedError("proof has too many hashes")
    hashes = tuple(parse_hash(s) for s in hash_lines)
    return TlogProof(int(index_s), hashes, checkpoint, extra)


def issue_proof(leaf: bytes, index: int, hashes: Sequence[bytes], checkpoint: str) -> str:
    """Encode the receipt for ``leaf`` at ``index``, with its leaf hash as the extra hint."""
    return format_proof(index, hashes, checkpoint, extra=leaf_hash(leaf))


def verify_receipt(
    leaf: bytes, proof_text: str, vkey: str, origin: str | None = None
) -> VerifiedReceipt:
    """Check that ``leaf`` is in the log whose checkpoint ``vkey`` signed; say what failed.

    Raises MalformedError (vkey or proof text), SignatureError (checkpoint not signed by
    vkey, or altered; wrong origin), LeafMismatchError (not the receipt's leaf) or
    ProofError (audit path does not lead to the signed root).
    """
    verifier = note.new_verifier(vkey)
    p = parse_proof(proof_text)
    try:
        cp, _ = open_checkpoint(p.checkpoint, [verifier], origin)
    except UnverifiedNoteError as e:
        raise SignatureError(
            f"checkpoint is not signed by {verifier.name}+{verifier.key_id:08x}"
        ) from e
    if p.index >= cp.size:
        raise ProofError(f"leaf index {p.index} is not below the checkpoint size {cp.size}")
    lh = leaf_hash(leaf)
    try:
        root = root_from_inclusion_proof(p.index, cp.size, lh, p.hashes)
    except ProofError as e:
        raise ProofError(f"inclusion proof is malformed for this tree size: {e}") from e
    if root != cp.root:
        if p.extra is not None and len(p.extra) == HASH_SIZE and p.extra != lh:
            raise LeafMismatchError("leaf does not match the one this receipt was issued for")
        raise ProofError(
            f"inclusion proof for index {p.index} does not lead to the signed root "
            f"of tree size {cp.size}"
        )
    return VerifiedReceipt(p.index, cp.size, cp.root, cp.origin)


def _canonical_b64(s: str, what: str) -> bytes:
    try:
        data = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as e:
        raise MalformedError(f"{what} is not valid base64") from e
    if base64.b64encode(data).decode() != s:
        raise MalformedError(f"{what} is not canonical base64")
    return data
