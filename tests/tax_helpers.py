"""Building books through the API for the tax-rule tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api


def quick(
    api: Api, bid: int, kind: str, amount: str, category: str, date: str, paid_with: str = "bank"
) -> dict:
    r = api.post(
        f"/businesses/{bid}/entries/quick",
        {
            "kind": kind,
            "amount": amount,
            "category": category,
            "paid_with": paid_with,
            "date": date,
        },
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def entry(api: Api, bid: int, date: str, lines: list[tuple[str, str, str]]) -> dict:
    """lines: (account, 'debit'|'credit', amount)."""
    body = {"date": date, "lines": [{"account": a, side: amt} for a, side, amt in lines]}
    r = api.post(f"/businesses/{bid}/entries", body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def profile(api: Api, bid: int, **values: Any) -> dict:
    r = api.post(f"/businesses/{bid}/tax/profile", values)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def check(api: Api, bid: int, date: str) -> dict:
    r = api.post(f"/businesses/{bid}/tax/check", {"date": date})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def warnings(api: Api, bid: int, state: str = "active") -> list[dict]:
    r = api.get(f"/businesses/{bid}/tax/warnings", query={"state": state})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def by_rule(items: list[dict], rule_id: str) -> list[dict]:
    return [w for w in items if w["rule_id"] == rule_id]
