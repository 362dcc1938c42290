"""Peewee storage for chain.tlog: a HashReader over the chain_hash table, and appends.

chain/ does no I/O; this adapter is the whole of its storage. Every tree hash or proof is
one ``SELECT ... WHERE idx IN (...)`` of at most O(log n) rows, and every leaf append
writes its 1 + (trailing ones of n) new hashes with one multi-row INSERT.

These run inside every posting, so they are plain SQL strings through the peewee database
(building a peewee query costs more than running these small statements). A posting appends its
leaf with at most two round trips: the stored hashes it needs (when it needs any), then the leaf
and its new hashes together; the log's size comes with the posting's own re-check of its lines
(``known_log_size``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

from app.db import db, is_postgres
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


# The log's size as a statement that already holds the writers' lock read it (the posting
# function reads it with its stored lines), so that the leaf appended next need not read it again.
_known = threading.local()

LOG_SIZE_SQL = "(SELECT COALESCE(MAX(idx) + 1, 0) FROM chain_leaf WHERE business_id = ?)"


@contextmanager
def known_log_size(business_id: int, size: int) -> Iterator[None]:
    """Within the block, the next leaf appended to this business's log gets index ``size``.

    Only for a caller that read ``size`` (with LOG_SIZE_SQL) in the current transaction, under
    the log's lock, with nothing appended since; the first append in the block uses it up.
    Were it ever wrong, the unique index on (business, idx) refuses the leaf (a 409 that rolls
    the change back), so a wrong size can never leave a gap or a fork."""
    _known.value = (business_id, size)
    try:
        yield
    finally:
        _known.value = None


def next_leaf_index(business_id: int) -> int:
    """The index the next leaf gets: the log's size (an index seek on (business, idx))."""
    row = execute("SELECT MAX(idx) FROM chain_leaf WHERE business_id = ?", (business_id,))
    last = row.fetchone()[0]
    return 0 if last is None else last + 1


def take_leaf_index(business_id: int) -> int:
    """next_leaf_index, without a query when known_log_size() holds it (used up here)."""
    known = getattr(_known, "value", None)
    if known is not None and known[0] == business_id:
        _known.value = None
        return known[1]
    return next_leaf_index(business_id)


_INSERT_LEAF = (
    "INSERT INTO chain_leaf (business_id, idx, type, time, actor_id, entry_id, data) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _leaf_params(
    business_id: int,
    index: int,
    event_type: str,
    time: dt.datetime,
    actor_id: int | None,
    entry_id: int | None,
    data: str,
) -> tuple[object, ...]:
    return (
        business_id,
        index,
        event_type,
        time.strftime("%Y-%m-%d %H:%M:%S"),
        actor_id,
        entry_id,
        data,
    )


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
        _INSERT_LEAF,
        _leaf_params(business_id, index, event_type, time, actor_id, entry_id, data),
    )


def append_hashes(
    business_id: int,
    leaf_index: int,
    hashes: Sequence[bytes],
    leaf: tuple[str, dt.datetime, int | None, int | None, str] | None = None,
) -> None:
    """Store the hashes that adding leaf ``leaf_index`` produced (chain.tlog.stored_hashes).

    With ``leaf`` (its type, time, actor, entry and data), insert the leaf row as well, before
    the hashes; on PostgreSQL both statements go in one round trip.
    """
    start = stored_hash_index(0, leaf_index)
    values = ",".join(["(?, ?, ?)"] * len(hashes))
    params: list[object] = []
    for i, h in enumerate(hashes):
        params += (business_id, start + i, h)
    sql = f"INSERT INTO chain_hash (business_id, idx, hash) VALUES {values}"
    if leaf is None:
        execute(sql, params)
        return
    leaf_params = _leaf_params(business_id, leaf_index, *leaf)
    if is_postgres():
        execute(f"{_INSERT_LEAF}; {sql}", (*leaf_params, *params))
    else:
        execute(_INSERT_LEAF, leaf_params)
        execute(sql, params)
