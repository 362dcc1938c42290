"""Tenancy is a security boundary: one business can never read or write another's data.

Every route with a business in its URL is enumerated from the route table, so a new endpoint is
covered the moment it is added.
"""

from __future__ import annotations

import re

import pytest

from app.api.routing import ROUTES
from app.models import Account, Category, ClosedPeriod, Entry, EntryLine, Invite, Membership
from app.services.businesses import PERMISSIONS
from tests.conftest import OTHER_USCC, Api, join, new_business, register

BUSINESS_ROUTES = [r for r in ROUTES if "<int:business_id>" in r.rule]


def fill(rule: str, values: dict[str, object]) -> str:
    return re.sub(r"<(?:int:)?([a-z_]+)>", lambda m: str(values.get(m.group(1), 0)), rule)


def state() -> tuple:
    return tuple(
        m.select().count()
        for m in (Entry, EntryLine, Account, Category, ClosedPeriod, Membership, Invite)
    )


@pytest.fixture
def two_businesses(api: Api) -> dict:
    a_owner = register(api, "owner_a")
    b_owner = register(api, "owner_b")
    a = new_business(api, a_owner["access_token"], "A 商店")
    b = new_business(api, b_owner["access_token"], "B 工作室", uscc=OTHER_USCC)
    lines = [{"account": "1001", "debit": "10.00"}, {"account": "5001", "credit": "10.00"}]
    b_entry = api.post(
        f"/businesses/{b['id']}/entries",
        {"date": "2026-03-01", "lines": lines},
        token=b_owner["access_token"],
    ).get_json()
    return {
        "a": a,
        "b": b,
        "a_token": a_owner["access_token"],
        "b_owner": b_owner,
        "b_entry": b_entry,
    }


def test_there_are_business_routes_to_check() -> None:
    assert len(BUSINESS_ROUTES) >= 15


@pytest.mark.parametrize("spec", BUSINESS_ROUTES, ids=lambda s: f"{s.method} {s.rule}")
def test_owner_of_a_gets_404_for_every_endpoint_of_b(api: Api, two_businesses: dict, spec) -> None:
    t = two_businesses
    url = fill(
        spec.rule,
        {
            "business_id": t["b"]["id"],
            "entry_id": t["b_entry"]["id"],
            "user_id": t["b_owner"]["user_id"],
            "code": "1001",
            "key": "meals",
            "month": "2026-03",
        },
    )
    before = state()
    r = api.request(spec.method, url, {} if spec.method == "POST" else None, token=t["a_token"])
    assert r.status_code == 404, (url, r.status_code, r.get_json())
    assert r.get_json()["error"]["code"] == "business_not_found"
    assert state() == before


def test_b_entry_is_invisible_through_a_url(api: Api, two_businesses: dict) -> None:
    t = two_businesses
    a, eid = t["a"]["id"], t["b_entry"]["id"]
    assert api.get(f"/businesses/{a}/entries/{eid}", token=t["a_token"]).status_code == 404
    assert (
        api.post(f"/businesses/{a}/entries/{eid}/reverse", {}, token=t["a_token"]).status_code
        == 404
    )
    assert api.delete(f"/businesses/{a}/entries/{eid}", token=t["a_token"]).status_code == 404
    assert api.get(f"/businesses/{a}/entries", token=t["a_token"]).get_json()["items"] == []
    tb = api.get(f"/businesses/{a}/reports/trial-balance", token=t["a_token"]).get_json()
    assert tb["rows"] == [] and tb["total_debit"] == "0.00"


def test_removing_b_member_from_a_does_not_touch_b(api: Api, two_businesses: dict) -> None:
    t = two_businesses
    r = api.post(
        f"/businesses/{t['a']['id']}/members/{t['b_owner']['user_id']}/remove",
        {},
        token=t["a_token"],
    )
    assert r.status_code == 404
    assert Membership.select().where(Membership.business == t["b"]["id"]).count() == 1


def test_me_lists_only_own_businesses(api: Api, two_businesses: dict) -> None:
    me = api.get("/me", token=two_businesses["a_token"]).get_json()
    assert [b["name"] for b in me["businesses"]] == ["A 商店"]


# What each role may do, per action name; checked against the API for every business route.
@pytest.mark.parametrize("role", ["bookkeeper", "employee", "viewer"])
def test_roles_get_403_for_actions_outside_their_role(
    api: Api, two_businesses: dict, role: str
) -> None:
    t = two_businesses
    b = t["b"]["id"]
    token = join(api, t["b_owner"]["access_token"], b, role, f"user_{role}")
    checked = 0
    for spec in BUSINESS_ROUTES:
        if role in PERMISSIONS[spec.action]:
            continue
        url = fill(
            spec.rule,
            {
                "business_id": b,
                "entry_id": t["b_entry"]["id"],
                "user_id": t["b_owner"]["user_id"],
                "code": "1001",
                "key": "meals",
                "month": "2026-03",
            },
        )
        before = state()
        r = api.request(spec.method, url, {} if spec.method == "POST" else None, token=token)
        assert r.status_code == 403, (role, spec.method, url, r.get_json())
        assert r.get_json()["error"]["code"] == "forbidden_role"
        assert state() == before
        checked += 1
    assert checked > 0


def test_viewer_reads_the_books_but_cannot_write(api: Api, two_businesses: dict) -> None:
    t = two_businesses
    b = t["b"]["id"]
    token = join(api, t["b_owner"]["access_token"], b, "viewer", "vera")
    assert api.get(f"/businesses/{b}/entries", token=token).status_code == 200
    assert api.get(f"/businesses/{b}/reports/trial-balance", token=token).status_code == 200
    quick = {"kind": "expense", "amount": "1.00", "category": "meals", "paid_with": "cash"}
    assert api.post(f"/businesses/{b}/entries/quick", quick, token=token).status_code == 403


def test_bookkeeper_posts_and_closes_but_cannot_manage_members(
    api: Api, two_businesses: dict
) -> None:
    t = two_businesses
    b = t["b"]["id"]
    token = join(api, t["b_owner"]["access_token"], b, "bookkeeper", "bob")
    quick = {
        "kind": "expense",
        "amount": "1.00",
        "category": "meals",
        "paid_with": "cash",
        "date": "2026-04-01",
    }
    assert api.post(f"/businesses/{b}/entries/quick", quick, token=token).status_code == 201
    assert api.post(f"/businesses/{b}/periods/2026-03/close", {}, token=token).status_code == 200
    assert api.post(f"/businesses/{b}/periods/2026-03/reopen", {}, token=token).status_code == 403
    assert api.post(f"/businesses/{b}/invites", {"role": "owner"}, token=token).status_code == 403
