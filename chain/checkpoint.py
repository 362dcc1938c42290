"""Checkpoints (https://c2sp.org/tlog-checkpoint): the signed statement of a log's tree head.

The note text is ``<origin>\\n<size>\\n<base64 root>\\n`` followed by optional extension
lines. We parse extension lines (other logs use them) but never emit any, as the spec
does not recommend them. Parsing is strict and canonical, like Go's tlog.ParseTree: one
checkpoint has exactly one text, so a signed checkpoint cannot be re-encoded into a
different but "equivalent" one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from chain import note
from chain.errors import MalformedError, SignatureError
from chain.hashing import HASH_SIZE

MAX_CHECKPOINT_BYTES = 1_000_000  # as Go's ParseTree: refuse absurd input early


@dataclass(frozen=True)
class Checkpoint:
    """A parsed checkpoint body: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def format_checkpoint(origin: str, size: int, root: bytes) -> str:
    """Return the checkpoint note text (unsigned) for a tree head."""
    if not origin or "\n" in origin or any(c < " " for c in origin):
        raise MalformedError("checkpoint origin must be a non-empty single line")
    if size < 0:
        raise MalformedError("checkpoint size must not be negative")
    if len(root) != HASH_SIZE:
        raise MalformedError("checkpoint root must be a 32-byte hash")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint note text (without signatures), rejecting any non-canonical form."""
    if len(text) > MAX_CHECKPOINT_BYTES:
        raise MalformedError("checkpoint too large")
    if not text.endswith("\n"):
        raise MalformedError("checkpoint must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedError("checkpoint needs origin, size and root lines")
    origin, size_s, root_s, *ext = lines
    if not origin:
        raise MalformedError("checkpoint origin is empty")
    if not size_s.isascii() or not size_s.isdigit() or str(int(size_s)) != size_s:
        raise MalformedError(f"checkpoint size {size_s!r} is not a canonical decimal")
    root = parse_hash(root_s)
    if any(not line for line in ext):
        raise MalformedError("checkpoint extension lines must be non-empty")
    return Checkpoint(origin, int(size_s), root, tuple(ext))


def parse_hash(s: str) -> bytes:
    """Decode a canonical standard-base64 32-byte hash."""
    try:
        h = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as e:
        raise MalformedError(f"hash {s!r} is not valid base64") from e
    if len(h) != HASH_SIZE or base64.b64encode(h).decode() != s:
        raise MalformedError(f"hash {s!r} is not a canonical base64 32-byte hash")
    return h


def sign_checkpoint(origin: str, size: int, root: bytes, signer: note.Signer) -> str:
    """Return the signed checkpoint note for a tree head."""
    return note.sign(format_checkpoint(origin, size, root), [signer])


def open_checkpoint(
    msg: bytes | str, verifiers: Iterable[note.Verifier], origin: str | None = None
) -> tuple[Checkpoint, note.Note]:
    """Verify a signed checkpoint and parse it; optionally require a given origin."""
    opened = note.open(msg, verifiers)
    cp = parse_checkpoint(opened.text)
    if origin is not None and cp.origin != origin:
        # Signed by a key we trust, but not as a statement about this log.
        raise SignatureError(f"checkpoint origin {cp.origin!r}, want {origin!r}")
    return cp, opened
