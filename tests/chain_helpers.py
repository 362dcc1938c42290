"""Helpers for the app-level chain tests: a cheap signing key, ledger activity, tampering."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.db import db
from tests.conftest import BACKEND, Api, join

# scrypt at 2¹⁰ keeps key creation per test fast; production uses CHAIN_KEY_SCRYPT_N=2¹⁵.
FAST_KEYS = {"CHAIN_KEY_SCRYPT_N": 2**10, "CHAIN_ORIGIN": "test.suanpan/chain"}

LINES = [{"account": "1001", "debit": "10.00"}, {"account": "5001", "credit": "10.00"}]


def post_entry(api: Api, bid: int, amount: str = "10.00", memo: str = "", **extra: Any) -> dict:
    lines = [{"account": "1001", "debit": amount}, {"account": "5001", "credit": amount}]
    body = {"date": "2026-03-01", "memo": memo, "lines": lines, **extra}
    r = api.post(f"/businesses/{bid}/entries", body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def busy_day(api: Api, bid: int) -> dict[str, Any]:
    """Every kind of ledger event at least once; returns what was made."""
    e1 = post_entry(api, bid, "12.30", "进货 “批发”\n第1批")
    e2 = post_entry(api, bid, "0.05", "零钱 🧧")
    quick = {"kind": "expense", "amount": "8.80", "category": "meals", "paid_with": "wechat"}
    r = api.post(f"/businesses/{bid}/entries/quick", quick)
    assert r.status_code == 201, r.get_json()
    e3 = r.get_json()
    r = api.post(f"/businesses/{bid}/entries/{e1['id']}/reverse", {})
    assert r.status_code == 201, r.get_json()
    rev = r.get_json()
    r = api.post(f"/businesses/{bid}/accounts", {"parent": "1002", "name": "工商银行"})
    assert r.status_code == 201, r.get_json()
    assert api.post(f"/businesses/{bid}/periods/2026-01/close", {}).status_code == 200
    assert api.post(f"/businesses/{bid}/periods/2026-02/close", {}).status_code == 200
    assert api.post(f"/businesses/{bid}/periods/2026-01/reopen", {}).status_code == 200
    token = join(api, api.token or "", bid, "viewer", "vivi")
    me = api.get("/me", token=token).get_json()
    uid = me["id"]
    r = api.post(f"/businesses/{bid}/members/{uid}/role", {"role": "bookkeeper"})
    assert r.status_code == 200, r.get_json()
    token2 = join(api, api.token or "", bid, "employee", "emma")
    me2 = api.get("/me", token=token2).get_json()
    uid2 = me2["id"]
    assert api.post(f"/businesses/{bid}/members/{uid2}/remove", {}).status_code == 200
    e4 = post_entry(api, bid, "99.99", "last")
    return {"entries": [e1, e2, e3, rev, e4], "viewer_id": uid}


def seal(api: Api, bid: int) -> dict:
    r = api.post(f"/businesses/{bid}/chain/seal", {})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


@contextmanager
def behind_the_api() -> Iterator[None]:
    """What an attacker with database access does first: switch the refusing triggers off."""
    if BACKEND == "postgres":
        db.execute_sql("SET session_replication_role = replica")
        try:
            yield
        finally:
            db.execute_sql("SET session_replication_role = DEFAULT")
        return
    triggers = list(db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    for name, _sql in triggers:
        db.execute_sql(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        for _name, sql in triggers:
            db.execute_sql(sql)


def sql(query: str, *params: Any) -> list[tuple]:
    cursor = db.execute_sql(query.replace("?", db.obj.param), params)
    return list(cursor.fetchall()) if cursor.description else []
