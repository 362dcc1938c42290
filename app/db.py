"""Database binding: one peewee proxy, initialised by create_app from DATABASE_URL.

Services own transactions (`write_transaction`); views never open them. SQLite runs in WAL mode
with foreign keys on and a busy timeout; writers take the lock up front (BEGIN IMMEDIATE) so two
writers never deadlock upgrading a read lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from peewee import Database, DatabaseProxy, Model, PostgresqlDatabase, SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    # WAL + NORMAL is durable against application crashes and consistent after power loss.
    "synchronous": "normal",
    "cache_size": -16000,
}


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def sqlite_path(url: str, base_dir: Path) -> str:
    """Path of an sqlite:/// URL; relative paths are relative to the project root."""
    raw = url[len("sqlite:///") :]
    if raw in ("", ":memory:"):
        return ":memory:"
    path = Path(unquote(raw))
    if not path.is_absolute():
        path = base_dir / path
    return str(path)


def make_database(url: str, base_dir: Path, pool_size: int = 8) -> Database:
    """Build (but do not connect) the database named by a DATABASE_URL."""
    if url.startswith("sqlite://"):
        path = sqlite_path(url, base_dir)
        if path == ":memory:":
            # One shared connection: a pool would give each thread its own empty database.
            return SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return PooledSqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            max_connections=pool_size,
            stale_timeout=600,
            check_same_thread=False,
        )
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        kwargs = {
            "host": parsed.hostname or "127.0.0.1",
            "port": parsed.port or 5432,
            "user": unquote(parsed.username)
            if parsed.username
            else os.environ.get("PGUSER", "postgres"),
        }
        if parsed.password:
            kwargs["password"] = unquote(parsed.password)
        name = parsed.path.lstrip("/")
        return PooledPostgresqlDatabase(
            name, max_connections=pool_size, stale_timeout=600, **kwargs
        )
    raise ValueError(f"DATABASE_URL scheme {parsed.scheme!r} is not supported (sqlite, postgresql)")


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(db.obj, PostgresqlDatabase)


def write_transaction() -> AbstractContextManager:
    """A transaction for writes: BEGIN IMMEDIATE on SQLite, a plain transaction elsewhere.

    Nested calls become savepoints, so a service can be called from another service or from the
    idempotency wrapper and still roll back only its own work on error. Inside `deferred_write()`
    the outermost call begins the deferred transaction instead (see there).
    """
    if db.obj.transaction_depth() == 0:
        scope = getattr(_local, "scope", None)
        if scope is not None:
            return scope.begin()
        if is_sqlite():
            return db.atomic("IMMEDIATE")
    return db.atomic()


_local = threading.local()


class _DeferredScope:
    """One `deferred_write()` block: the transaction it began, once something wrote."""

    def __init__(self) -> None:
        self.txn: AbstractContextManager | None = None

    @contextmanager
    def begin(self) -> Iterator[None]:
        # The first write: BEGIN (IMMEDIATE on SQLite). On success the transaction stays open
        # for the rest of the block; on error it is rolled back whole, which is what a
        # savepoint would have done, since nothing else was written in it yet.
        txn = db.obj.transaction("IMMEDIATE") if is_sqlite() else db.obj.transaction()
        txn.__enter__()
        self.txn = txn
        try:
            yield
        except BaseException as exc:
            self.txn = None
            txn.__exit__(type(exc), exc, exc.__traceback__)
            raise


@contextmanager
def deferred_write() -> Iterator[_DeferredScope]:
    """A write transaction that begins at the first `write_transaction()` inside the block, and
    commits (or rolls back, on an exception) when the block ends.

    Reads made before that run outside any transaction, so on SQLite the database's write lock
    is held only from the first write to the end of the block, not while a request is parsed
    and validated. Code inside must write only through `write_transaction()` (services do), or
    its writes commit on their own. Inside an open transaction this is a plain nested one.
    """
    if db.obj.transaction_depth() > 0 or getattr(_local, "scope", None) is not None:
        with write_transaction():
            yield _DeferredScope()
        return
    scope = _DeferredScope()
    _local.scope = scope
    try:
        yield scope
    except BaseException as exc:
        _local.scope = None
        if scope.txn is not None:
            scope.txn.__exit__(type(exc), exc, exc.__traceback__)
        raise
    _local.scope = None
    if scope.txn is not None:
        scope.txn.__exit__(None, None, None)


def mark_locked(key: object) -> None:
    """Note that the current transaction holds a lock (e.g. a business row), so code later in
    the same transaction need not take it again. Forgotten when the transaction ends."""
    txn = db.obj._state.transactions[0]
    held = txn.__dict__.setdefault("_suanpan_locks", set())
    held.add(key)


def holds_lock(key: object) -> bool:
    """Whether `mark_locked(key)` was called in the current transaction."""
    txns = db.obj._state.transactions
    return bool(txns) and key in txns[0].__dict__.get("_suanpan_locks", ())


@lru_cache(maxsize=512)
def _translate(sql: str, param: str) -> str:
    return sql if param == "?" else sql.replace("?", param)


def execute(sql: str, params: Sequence[object] = ()):  # type: ignore[no-untyped-def]
    """Run a fixed `?`-placeholder statement on either database; returns the cursor."""
    return db.execute_sql(_translate(sql, db.obj.param), tuple(params))


def fetchone(sql: str, *params: object) -> tuple | None:
    """Run a small, fixed hot-path query written with `?` placeholders, on either database.

    Used only where the per-request cost of building SQL matters (the checks every request
    makes); everything else goes through peewee's query builder.
    """
    return db.execute_sql(_translate(sql, db.obj.param), params).fetchone()


def fetchall(sql: str, *params: object) -> list[tuple]:
    """As `fetchone`, for all rows."""
    return list(db.execute_sql(_translate(sql, db.obj.param), params).fetchall())
