"""Merkle tree hashing of RFC 9162 §2.1 (identical to RFC 6962 §2.1).

The 0x00/0x01 prefixes separate leaves from interior nodes, so no leaf can be passed off
as a subtree (second-preimage resistance). Keeping these three definitions in one place
lets every public test vector (transparency-dev, Go sumdb, Tessera) apply to our log.
"""

from __future__ import annotations

import hashlib

HASH_SIZE = 32

# MTH({}) = SHA-256() -- the hash of an empty tree.
# https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Return the hash of a leaf (a log entry)."""
    # SHA-256(0x00 || data)
    # https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of an interior node with the given child hashes."""
    # SHA-256(0x01 || left || right)
    # https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1
    return hashlib.sha256(b"\x01" + left + right).digest()
