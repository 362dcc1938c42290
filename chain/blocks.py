"""Blocks: sealed batches of log leaves, each header committing to the previous one.

The Merkle log already makes history append-only; the block chain adds a human-sized
unit ("what was sealed on 3 May") whose headers an auditor can check one after another.
Block ``height`` seals leaves [first_leaf, end_leaf) and records the log's tree head at
``tree_size == end_leaf`` together with the signed checkpoint that states it.

A header is hashed as RFC 8785 canonical JSON with hashes in lowercase hex and a
``format`` field, so the encoding is versioned: a change would use a new format string.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chain import note
from chain.canonical import canonical_json
from chain.checkpoint import parse_checkpoint
from chain.errors import BrokenChainError, ChainError, MalformedError
from chain.hashing import HASH_SIZE

BLOCK_FORMAT = "suanpan-block/v1"
GENESIS_PREV_HASH = bytes(HASH_SIZE)
_UTC_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_timestamp(dt: datetime | None = None) -> str:
    """Return a UTC time as ``YYYY-MM-DDTHH:MM:SSZ`` (the only form sealed_at accepts)."""
    dt = datetime.now(UTC) if dt is None else dt
    if dt.tzinfo is None:
        raise ValueError("naive datetime: the seal time must be timezone-aware")
    return dt.astimezone(UTC).strftime(_UTC_FORMAT)


def _is_utc_timestamp(s: str) -> bool:
    if not isinstance(s, str) or not _UTC_RE.fullmatch(s):
        return False
    try:
        datetime.strptime(s, _UTC_FORMAT)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class BlockHeader:
    """One sealed block: leaves [first_leaf, end_leaf) and the tree head after them."""

    height: int
    prev_hash: bytes
    first_leaf: int
    end_leaf: int
    tree_size: int
    root: bytes
    sealed_at: str
    checkpoint: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form hashed by block_hash (hashes as lowercase hex)."""
        return {
            "format": BLOCK_FORMAT,
            "height": self.height,
            "prev_hash": self.prev_hash.hex(),
            "first_leaf": self.first_leaf,
            "end_leaf": self.end_leaf,
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "sealed_at": self.sealed_at,
            "checkpoint": self.checkpoint,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BlockHeader:
        """Inverse of to_dict; rejects unknown formats and extra or missing fields."""
        if set(d) != set(_FIELDS) or d["format"] != BLOCK_FORMAT:
            raise MalformedError(f"not a {BLOCK_FORMAT} header")
        try:
            header = cls(
                height=d["height"],
                prev_hash=bytes.fromhex(d["prev_hash"]),
                first_leaf=d["first_leaf"],
                end_leaf=d["end_leaf"],
                tree_size=d["tree_size"],
                root=bytes.fromhex(d["root"]),
                sealed_at=d["sealed_at"],
                checkpoint=d["checkpoint"],
            )
        except (TypeError, ValueError) as e:
            raise MalformedError(f"bad block header field: {e}") from e
        if header.to_dict() != d:  # non-canonical hex, wrong types, ...
            raise MalformedError("block header is not in canonical form")
        return header

    def canonical_bytes(self) -> bytes:
        """The exact bytes that block_hash covers."""
        return canonical_json(self.to_dict())

    def block_hash(self) -> bytes:
        """SHA-256 of the canonical header bytes; the next block's prev_hash."""
        return hashlib.sha256(self.canonical_bytes()).digest()


_FIELDS = (
    "format",
    "height",
    "prev_hash",
    "first_leaf",
    "end_leaf",
    "tree_size",
    "root",
    "sealed_at",
    "checkpoint",
)


def verify_chain(
    headers: Sequence[BlockHeader],
    verifiers: Iterable[note.Verifier] | None = None,
    prev: BlockHeader | None = None,
) -> None:
    """Raise BrokenChainError unless the headers form a valid chain.

    Checks, for each header: heights count up by one; prev_hash is the previous block's
    hash (GENESIS_PREV_HASH at height 0); leaf ranges are contiguous half-open [lo, hi)
    starting at 0; tree_size == end_leaf; the checkpoint states exactly (tree_size, root)
    and, when ``verifiers`` are given, is signed by one of them; seal times do not go
    backwards. Pass ``prev`` (an already trusted header) to check a later segment.
    """
    trusted = list(verifiers) if verifiers is not None else None
    for h in headers:
        _check_header(h, prev, trusted)
        prev = h


def _check_header(
    h: BlockHeader, prev: BlockHeader | None, verifiers: list[note.Verifier] | None
) -> None:
    def fail(reason: str) -> BrokenChainError:
        return BrokenChainError(h.height, reason)

    if prev is None:
        want_height, want_prev, want_first = 0, GENESIS_PREV_HASH, 0
    else:
        want_height, want_prev, want_first = prev.height + 1, prev.block_hash(), prev.end_leaf
    if h.height != want_height:
        raise fail(f"height {h.height}, want {want_height}")
    if h.prev_hash != want_prev:
        raise fail("prev_hash does not match the previous block's hash")
    if h.first_leaf != want_first:
        raise fail(f"first_leaf {h.first_leaf}, want {want_first} (leaf ranges must be contiguous)")
    if h.end_leaf < h.first_leaf:
        raise fail("end_leaf is before first_leaf")
    if h.tree_size != h.end_leaf:
        raise fail(f"tree_size {h.tree_size} differs from end_leaf {h.end_leaf}")
    if len(h.root) != HASH_SIZE:
        raise fail("root is not a 32-byte hash")
    if not _is_utc_timestamp(h.sealed_at):
        raise fail(f"sealed_at {h.sealed_at!r} is not YYYY-MM-DDTHH:MM:SSZ")
    if prev is not None and h.sealed_at < prev.sealed_at:
        raise fail("sealed_at goes backwards")
    try:
        if verifiers is None:
            text = h.checkpoint.partition("\n\n")[0] + "\n"
        else:
            text = note.open(h.checkpoint, verifiers).text
        cp = parse_checkpoint(text)
    except ChainError as e:
        raise fail(f"checkpoint: {e}") from e
    if (cp.size, cp.root) != (h.tree_size, h.root):
        raise fail("checkpoint does not state this block's tree size and root")
