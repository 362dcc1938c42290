"""Peewee storage for chain.tlog: a HashReader over the chain_hash table, and appends.

chain/ does no I/O; this adapter is the whole of its storage. Every tree hash or proof is
one ``SELECT ... WHERE idx IN (...)`` of at most O(log n) rows, and every leaf append
writes its 1 + (trailing ones of n) new hashes with one multi-row INSERT.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.models import ChainHash
from chain.errors import StorageError
from chain.tlog import stored_hash_index


class PeeweeHashReader:
    """HashReader for one business's log, reading the chain_hash table."""

    def __init__(self, business_id: int) -> None:
        self.business_id = business_id

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at ``indexes``, in that order (one query)."""
        if not indexes:
            return []
        rows = (
            ChainHash.select(ChainHash.idx, ChainHash.hash)
            .where((ChainHash.business_id == self.business_id) & ChainHash.idx.in_(list(indexes)))
            .tuples()
        )
        found = {idx: bytes(h) for idx, h in rows}
        try:
            return [found[i] for i in indexes]
        except KeyError as e:
            raise StorageError(
                f"business {self.business_id}: stored hash {e.args[0]} is missing"
            ) from None


def append_hashes(business_id: int, leaf_index: int, hashes: Sequence[bytes]) -> None:
    """Store the hashes that adding leaf ``leaf_index`` produced (chain.tlog.stored_hashes)."""
    start = stored_hash_index(0, leaf_index)
    ChainHash.insert_many(
        [(business_id, start + i, h) for i, h in enumerate(hashes)],
        fields=[ChainHash.business_id, ChainHash.idx, ChainHash.hash],
    ).execute()
