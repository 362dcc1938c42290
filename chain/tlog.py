"""Append-only Merkle log storage layout, after Go's golang.org/x/mod/sumdb/tlog.

Every hash of the tree (leaf hashes and complete-subtree hashes) gets one slot in a dense
linear order, so a database can keep them in a single table keyed by an integer and never
rewrite a row. Adding leaf n appends 1 + (trailing one bits of n) hashes; a root or a proof
is then computed from at most O(log n) stored hashes fetched in ONE ``read_hashes`` call.

The layout is Crosby and Wallach, "Efficient Data Structures for Tamper-Evident Logging",
§3.3 (https://www.usenix.org/legacy/event/sec09/tech/full_papers/crosby.pdf). Hashes
are RFC 9162 hashes, so roots and proofs interoperate with Certificate Transparency.

One difference from Go: ``tree_hash(0)`` is SHA-256("") as RFC 9162 defines MTH({}),
not Go's all-zero hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chain.errors import StorageError
from chain.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash


class HashReader(Protocol):
    """Storage seen by the log: it only ever needs to read hashes by stored index.

    ``read_hashes`` must return exactly one 32-byte hash per index, in the order asked.
    Indexes are passed sorted ascending, so ``WHERE idx IN (...) ORDER BY idx`` works.
    """

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]: ...


class MemoryHashStore:
    """A list-backed HashReader that also appends leaves; for tests and offline tools."""

    def __init__(self) -> None:
        self.hashes: list[bytes] = []
        self.size = 0  # number of leaves

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at ``indexes``; an unknown index is a caller bug."""
        out = []
        for i in indexes:
            if not 0 <= i < len(self.hashes):
                raise IndexError(f"stored hash index {i} out of range [0, {len(self.hashes)})")
            out.append(self.hashes[i])
        return out

    def append(self, data: bytes) -> int:
        """Add ``data`` as the next leaf and return its index."""
        n = self.size
        new = stored_hashes(n, data, self)
        assert len(self.hashes) == stored_hash_index(0, n), "tlog: store out of step"
        self.hashes.extend(new)
        self.size = n + 1
        return n


def _trailing_zeros(x: int) -> int:
    return (x & -x).bit_length() - 1


def maxpow2(n: int) -> tuple[int, int]:
    """Return (k, l): k = 2ˡ is the largest power of two strictly smaller than n ≥ 2."""
    assert n >= 2, "tlog: bad math in maxpow2"
    level = (n - 1).bit_length() - 1
    return 1 << level, level


def stored_hash_index(level: int, n: int) -> int:
    """Map tree coordinates (level, n) to the hash's slot in the dense storage order."""
    if level < 0 or n < 0:
        raise ValueError("tlog: negative level or index")
    # Level L's n'th hash is written right after level L+1's 2n+1'th hash.
    # Work our way down to the level 0 ordering, then add back the level count.
    for _ in range(level):
        n = 2 * n + 1
    # Level 0's n'th hash is written at n + n/2 + n/4 + ... = 2n - popcount(n).
    return 2 * n - n.bit_count() + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """Inverse of stored_hash_index: split_stored_hash_index(stored_hash_index(l, n)) == (l, n)."""
    if index < 0:
        raise ValueError("tlog: negative stored hash index")
    # stored_hash_index(0, n) ≤ 2n, so the leaf n we want is in [index/2, index/2 + log₂ index].
    n = index // 2
    index_n = stored_hash_index(0, n)
    assert index_n <= index, "tlog: bad math in split_stored_hash_index"
    while True:
        # Each new leaf n adds 1 + trailing_zeros(n+1) hashes.
        x = index_n + 1 + _trailing_zeros(n + 1)
        if x > index:
            break
        n += 1
        index_n = x
    # The hash we want was committed with leaf n: it is one of (0, n), (1, n/2), (2, n/4), ...
    level = index - index_n
    return level, n >> level


def stored_hash_count(n: int) -> int:
    """Return how many hashes are stored for a tree with n leaves."""
    if n < 0:
        raise ValueError("tlog: negative tree size")
    if n == 0:
        return 0
    # The hashes up to the last leaf hash, plus those of subtrees that leaf completed.
    return stored_hash_index(0, n - 1) + 1 + _trailing_zeros(n)


def stored_hashes(n: int, data: bytes, reader: HashReader) -> list[bytes]:
    """Return the hashes to append (starting at stored_hash_index(0, n)) when adding leaf n.

    At most 1 + log₂ n hashes; reads up to log₂ n earlier hashes in one call.
    """
    return stored_hashes_for_leaf_hash(n, leaf_hash(data), reader)


def stored_hashes_for_leaf_hash(n: int, h: bytes, reader: HashReader) -> list[bytes]:
    """Like stored_hashes, for a caller that already has leaf_hash(data)."""
    if n < 0:
        raise ValueError("tlog: negative leaf index")
    _check_hash(h)
    # Each trailing 1 bit of n completes a subtree whose left sibling is already stored.
    m = _trailing_zeros(n + 1)
    # Sorted ascending: n >> i is always odd, its left sibling is (n >> i) - 1.
    indexes = [stored_hash_index(i, (n >> i) - 1) for i in reversed(range(m))]
    old = read_hashes_checked(reader, indexes)
    hashes = [h]
    for i in range(m):
        h = node_hash(old[m - 1 - i], h)
        hashes.append(h)
    return hashes


def tree_hash(n: int, reader: HashReader) -> bytes:
    """Return the root hash MTH of the first n leaves.

    Makes a single read_hashes call asking for at most 1 + log₂ n hashes.
    """
    if n < 0:
        raise ValueError("tlog: negative tree size")
    if n == 0:
        return EMPTY_ROOT
    indexes = subtree_indexes(0, n)
    h, rest = subtree_hash(0, n, read_hashes_checked(reader, indexes))
    assert not rest, "tlog: bad index math in tree_hash"
    return h


def subtree_indexes(lo: int, hi: int, need: list[int] | None = None) -> list[int]:
    """List (appending to ``need``) the stored indexes needed to hash leaves [lo, hi).

    https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1
    """
    need = [] if need is None else need
    # See subtree_hash for commentary.
    while lo < hi:
        k, level = maxpow2(hi - lo + 1)
        assert lo & (k - 1) == 0, "tlog: bad math in subtree_indexes"
        need.append(stored_hash_index(level, lo >> level))
        lo += k
    return need


def subtree_hash(lo: int, hi: int, hashes: Sequence[bytes]) -> tuple[bytes, Sequence[bytes]]:
    """Hash leaves [lo, hi) from the hashes listed by subtree_indexes; return the leftovers."""
    # Repeatedly split [lo, hi) into a complete left subtree of 2ˡ leaves, for l as large
    # as possible, and a right fringe. Complete subtrees are stored; fold them right to left.
    num_tree = 0
    while lo < hi:
        k, _ = maxpow2(hi - lo + 1)
        assert lo & (k - 1) == 0, "tlog: bad math in subtree_hash"
        num_tree += 1
        lo += k
    assert num_tree and len(hashes) >= num_tree, "tlog: bad index math in subtree_hash"
    h = hashes[num_tree - 1]
    for i in range(num_tree - 2, -1, -1):
        h = node_hash(hashes[i], h)
    return h, hashes[num_tree:]


def read_hashes_checked(reader: HashReader, indexes: list[int]) -> list[bytes]:
    """Read hashes and re-check what storage returned (count and length)."""
    if not indexes:
        return []
    hashes = list(reader.read_hashes(indexes))
    if len(hashes) != len(indexes):
        raise StorageError(f"tlog: read_hashes({len(indexes)} indexes) = {len(hashes)} hashes")
    for h in hashes:
        if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
            raise StorageError("tlog: read_hashes returned a value that is not a 32-byte hash")
    return [bytes(h) for h in hashes]


def _check_hash(h: bytes) -> None:
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        raise ValueError("tlog: hash must be 32 bytes")
