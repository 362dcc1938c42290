"""Versioned schema migrations (peewee's playhouse.migrations runner).

Migrations are numbered scripts in app/migrations/ with `up(migrator, db)`; each declares frozen
copies of the tables it creates, so later model changes never rewrite history. Tables are never
created implicitly: `flask db upgrade` applies what is pending, and the app refuses to serve a
database with pending migrations.
"""

from __future__ import annotations

from pathlib import Path

from playhouse.migrations import Runner

from app.db import db

DIRECTORY = str(Path(__file__).resolve().parent / "migrations")


def runner() -> Runner:
    return Runner(db.obj, DIRECTORY)


def pending_migrations() -> list[str]:
    return [m.name for m in runner().status() if not m.applied and m.path is not None]


def upgrade() -> list[str]:
    return runner().up()
