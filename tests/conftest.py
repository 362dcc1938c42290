"""Fixtures: an app on a real database per test, an API client, users and businesses.

SUANPAN_TEST_DB=sqlite (default): each test gets a copy of a migrated SQLite file.
SUANPAN_TEST_DB=postgres: one throw-away database per run on TEST_POSTGRES_URL's server,
migrated once; tables are truncated between tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.db import db
from app.migrate import upgrade
from config import TestingConfig

BACKEND = os.environ.get("SUANPAN_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def make_config(database_url: str, instance: Path, **extra: Any) -> type[TestingConfig]:
    attrs = {"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance), **extra}
    return type("TestConfig", (TestingConfig,), attrs)


def _pg_url(dbname: str) -> str:
    parts = urlparse(PG_ADMIN_URL)
    return urlunparse(parts._replace(path="/" + dbname))


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database: a SQLite file to copy, or a PostgreSQL database URL."""
    base = tmp_path_factory.mktemp("db")
    if BACKEND == "sqlite":
        path = base / "template.db"
        app = create_app(make_config(f"sqlite:///{path}", base / "instance"))
        with app.app_context(), db.connection_context():
            upgrade()
        db.close_all() if hasattr(db.obj, "close_all") else None
        yield str(path)
        return
    if BACKEND != "postgres":
        raise RuntimeError(f"SUANPAN_TEST_DB={BACKEND!r}: sqlite or postgres")
    import psycopg2

    name = f"suanpan_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(PG_ADMIN_URL)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = _pg_url(name)
    app = create_app(make_config(url, base / "instance"))
    with app.app_context(), db.connection_context():
        upgrade()
    db.close_all()
    try:
        yield url
    finally:
        db.close_all() if db.obj is not None and hasattr(db.obj, "close_all") else None
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _truncate_all() -> None:
    tables = [t for t in db.get_tables() if t != "schema_migration"]
    if tables:
        db.execute_sql(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    if BACKEND == "sqlite":
        path = tmp_path / "suanpan.db"
        shutil.copy(database_template, path)
        return f"sqlite:///{path}"
    return database_template


@pytest.fixture
def app_factory(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build an app with extra config (e.g. a WeChat API base) on this test's database."""
    made: list[Flask] = []

    def factory(**extra: Any) -> Flask:
        app = create_app(
            make_config(database_url, tmp_path / "instance", **extra), check_schema=True
        )
        made.append(app)
        if BACKEND == "postgres" and len(made) == 1:
            with db.connection_context():
                _truncate_all()
        return app

    yield factory
    if db.obj is not None and hasattr(db.obj, "close_all"):
        db.close_all()


@pytest.fixture
def app(app_factory) -> Flask:  # type: ignore[no-untyped-def]
    return app_factory()


@dataclass
class Api:
    """A JSON client for /api/v1 that remembers a bearer token."""

    client: FlaskClient
    token: str | None = None
    default_headers: dict[str, str] = field(default_factory=dict)

    def _headers(self, headers: dict[str, str] | None, token: str | None) -> dict[str, str]:
        out = dict(self.default_headers)
        tok = token if token is not None else self.token
        if tok:
            out["Authorization"] = f"Bearer {tok}"
        out.update(headers or {})
        return out

    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        data: Any = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
        query: dict[str, str] | None = None,
    ):  # type: ignore[no-untyped-def]
        url = path if path.startswith("/api/") else "/api/v1" + path
        kwargs: dict[str, Any] = {"headers": self._headers(headers, token), "query_string": query}
        if data is not None:
            kwargs["data"] = data
        elif json is not None:
            kwargs["json"] = json
        return self.client.open(url, method=method, **kwargs)

    def get(self, path: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any):  # type: ignore[no-untyped-def]
        return self.request("POST", path, json, **kw)

    def delete(self, path: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.request("DELETE", path, **kw)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


VALID_USCC = "91110000600037341L"
OTHER_USCC = "91340600MA2PBM9HXD"


def register(
    api: Api, username: str, password: str = "s3cret-pass", **extra: Any
) -> dict[str, Any]:
    r = api.post("/auth/register", {"username": username, "password": password, **extra}, token="")
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def new_business(
    api: Api, token: str, name: str = "测试商店", uscc: str = VALID_USCC, **extra: Any
) -> dict[str, Any]:
    body = {"name": name, "uscc": uscc, "taxpayer_type": "small_scale", **extra}
    r = api.post("/businesses", body, token=token)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def join(api: Api, owner_token: str, business_id: int, role: str, username: str) -> str:
    """Register `username`, invite them as `role` and accept; returns their access token."""
    user = register(api, username)
    r = api.post(f"/businesses/{business_id}/invites", {"role": role}, token=owner_token)
    assert r.status_code == 201, r.get_json()
    r = api.post(f"/invites/{r.get_json()['token']}/accept", {}, token=user["access_token"])
    assert r.status_code == 201, r.get_json()
    return user["access_token"]


@pytest.fixture
def owner(api: Api) -> dict[str, Any]:
    return register(api, "owner1")


@pytest.fixture
def business(api: Api, owner: dict[str, Any]) -> dict[str, Any]:
    return new_business(api, owner["access_token"])


@pytest.fixture
def books(api: Api, owner: dict[str, Any], business: dict[str, Any]) -> Api:
    """The owner's client, with the token set, for a business with its chart of accounts."""
    api.token = owner["access_token"]
    return api
