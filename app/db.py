"""Database binding: one peewee proxy, initialised by create_app from DATABASE_URL.

Services own transactions (`write_transaction`); views never open them. SQLite runs in WAL mode
with foreign keys on and a busy timeout; writers take the lock up front (BEGIN IMMEDIATE) so two
writers never deadlock upgrading a read lock.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
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
    idempotency wrapper and still roll back only its own work on error.
    """
    if is_sqlite() and db.obj.transaction_depth() == 0:
        return db.atomic("IMMEDIATE")
    return db.atomic()


def fetchone(sql: str, *params: object) -> tuple | None:
    """Run a small, fixed hot-path query written with `?` placeholders, on either database.

    Used only where the per-request cost of building SQL matters (the checks every request
    makes); everything else goes through peewee's query builder.
    """
    if db.obj.param != "?":
        sql = sql.replace("?", db.obj.param)
    return db.execute_sql(sql, params).fetchone()


def fetchall(sql: str, *params: object) -> list[tuple]:
    """As `fetchone`, for all rows."""
    if db.obj.param != "?":
        sql = sql.replace("?", db.obj.param)
    return list(db.execute_sql(sql, params).fetchall())
