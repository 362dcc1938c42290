"""Peewee storage for chain.tlog: a HashReader over the chain_hash table, and appends.

chain/ does no I/O; this adapter is the whole of its storage. Every tree hash or proof is
one ``SELECT ... WHERE idx IN (...)`` of at most O(log n) rows, and every leaf append
writes its 1 + (trailing ones of n) new hashes with one multi-row INSERT.

These run inside every posting, so they are plain SQL strings through the peewee database
(building a peewee query costs more than running these small statements).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache

from app.db import db
from chain.errors import StorageError
from chain.tlog import stored_hash_index


@lru_cache(maxsize=256)
def _sql(text: str, param: str) -> str:
    return text.replace("?", param)


def execute(text: str, params: Sequence[object] = ()):  # type: ignore[no-untyped-def]
    """Run a '?'-placeholder statement on the current database (SQLite or PostgreSQL)."""
    return db.execute_sql(_sql(text, db.obj.param), tuple(params))


class PeeweeHashReader:
    """HashReader for one business's log, reading the chain_hash table."""

    def __init__(self, business_id: int) -> None:
        self.business_id = business_id

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at ``indexes``, in that order (one query)."""
        if not indexes:
            return []
        marks = ",".join("?" * len(indexes))
        rows = execute(
            f"SELECT idx, hash FROM chain_hash WHERE business_id = ? AND idx IN ({marks})",
            (self.business_id, *indexes),
        ).fetchall()
        found = {idx: bytes(h) for idx, h in rows}
        try:
            return [found[i] for i in indexes]
        except KeyError as e:
            raise StorageError(
                f"business {self.business_id}: stored hash {e.args[0]} is missing"
            ) from None


def next_leaf_index(business_id: int) -> int:
    """The index the next leaf gets: the log's size (an index seek on (business, idx))."""
    row = execute("SELECT MAX(idx) FROM chain_leaf WHERE business_id = ?", (business_id,))
    last = row.fetchone()[0]
    return 0 if last is None else last + 1


def insert_leaf(
    business_id: int,
    index: int,
    event_type: str,
    time: dt.datetime,
    actor_id: int | None,
    entry_id: int | None,
    data: str,
) -> None:
    execute(
        "INSERT INTO chain_leaf (business_id, idx, type, time, actor_id, entry_id, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            business_id,
            index,
            event_type,
            time.strftime("%Y-%m-%d %H:%M:%S"),
            actor_id,
            entry_id,
            data,
        ),
    )


def append_hashes(business_id: int, leaf_index: int, hashes: Sequence[bytes]) -> None:
    """Store the hashes that adding leaf ``leaf_index`` produced (chain.tlog.stored_hashes)."""
    start = stored_hash_index(0, leaf_index)
    values = ",".join(["(?, ?, ?)"] * len(hashes))
    params: list[object] = []
    for i, h in enumerate(hashes):
        params += (business_id, start + i, h)
    execute(f"INSERT INTO chain_hash (business_id, idx, hash) VALUES {values}", params)
