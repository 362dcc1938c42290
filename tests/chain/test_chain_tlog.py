"""Stored-hash layout and tree hashes, checked against a naive RFC 9162 MTH."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import pytest

from chain import StorageError
from chain.hashing import EMPTY_ROOT, leaf_hash, node_hash
from chain.tlog import (
    MemoryHashStore,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
    stored_hashes,
    tree_hash,
)

N = 300


def naive_mth(hashes: tuple[bytes, ...]) -> bytes:
    """MTH straight from RFC 9162 §2.1.1, over leaf hashes."""

    @cache
    def mth(lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return hashes[lo]
        k = 1 << ((n - 1).bit_length() - 1)  # largest power of two < n
        return node_hash(mth(lo, lo + k), mth(lo + k, hi))

    return mth(0, len(hashes))


class CountingReader:
    """Wraps a store; records each read_hashes call and checks indexes come sorted."""

    def __init__(self, store: MemoryHashStore) -> None:
        self.store = store
        self.calls: list[list[int]] = []

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        assert list(indexes) == sorted(set(indexes)), "indexes must be sorted and distinct"
        self.calls.append(list(indexes))
        return self.store.read_hashes(indexes)


def leaf(i: int) -> bytes:
    return f"leaf {i}".encode()


@pytest.fixture(scope="module")
def store() -> MemoryHashStore:
    s = MemoryHashStore()
    for i in range(N):
        assert s.append(leaf(i)) == i
    return s


def test_empty_tree_is_sha256_of_nothing() -> None:
    assert tree_hash(0, MemoryHashStore()).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_split_stored_hash_index_inverts() -> None:
    for index in range(2000):
        level, n = split_stored_hash_index(index)
        assert stored_hash_index(level, n) == index
    for level in range(8):
        for n in range(200):
            assert split_stored_hash_index(stored_hash_index(level, n)) == (level, n)


def test_stored_hash_index_known_layout() -> None:
    # Leaves 0,1 then their parent; leaf 2, leaf 3, parent (2,3), grandparent (0..3).
    assert [stored_hash_index(0, n) for n in range(5)] == [0, 1, 3, 4, 7]
    assert [stored_hash_index(1, n) for n in range(2)] == [2, 5]
    assert stored_hash_index(2, 0) == 6


def test_grow_tree_every_size(store: MemoryHashStore) -> None:
    hashes = tuple(leaf_hash(leaf(i)) for i in range(N))
    grown = MemoryHashStore()
    for n in range(N + 1):
        assert len(grown.hashes) == stored_hash_count(n)
        reader = CountingReader(grown)
        assert tree_hash(n, reader) == naive_mth(hashes[:n]), n
        assert len(reader.calls) <= 1
        if n:
            assert len(reader.calls[0]) <= n.bit_length()  # 1 + ⌊log₂ n⌋
        if n < N:
            reader = CountingReader(grown)
            new = stored_hashes(n, leaf(n), reader)
            assert len(reader.calls) <= 1
            assert new[0] == hashes[n]
            grown.hashes.extend(new)
            grown.size += 1
    assert grown.hashes == store.hashes


def test_tree_hash_read_count_bound(store: MemoryHashStore) -> None:
    for n in range(1, N + 1):
        reader = CountingReader(store)
        tree_hash(n, reader)
        assert len(reader.calls) == 1
        assert len(reader.calls[0]) == n.bit_count()  # one per complete subtree


def test_short_read_is_a_storage_error(store: MemoryHashStore) -> None:
    class Short:
        def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
            return store.read_hashes(indexes)[:-1]

    class Wrong:
        def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
            return [b"short"] * len(indexes)

    for reader in (Short(), Wrong()):
        with pytest.raises(StorageError):
            tree_hash(7, reader)


def test_negative_inputs_rejected() -> None:
    with pytest.raises(ValueError):
        stored_hash_index(0, -1)
    with pytest.raises(ValueError):
        split_stored_hash_index(-1)
    with pytest.raises(ValueError):
        tree_hash(-1, MemoryHashStore())
