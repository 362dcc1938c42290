"""Businesses, the USCC check, members and roles, invitations by link and QR code."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import zxingcpp
from PIL import Image

from app.models import Account, Business, Category, Invite, Membership
from tests.conftest import OTHER_USCC, VALID_USCC, Api, join, new_business, register


def test_create_business_makes_the_caller_owner_and_seeds_the_books(api: Api, owner: dict) -> None:
    b = new_business(api, owner["access_token"], "小林咖啡", industry="餐饮", region="上海")
    assert (
        b["role"] == "owner"
        and b["uscc"] == VALID_USCC
        and b["uscc_check_ok"]
        and b["taxpayer_type"] == "small_scale"
    )
    assert Account.select().where(Account.business == b["id"]).count() > 60
    assert Category.select().where(Category.business == b["id"]).count() >= 10
    me = api.get("/me", token=owner["access_token"]).get_json()
    assert me["businesses"] == [{**b, "role": "owner"}]


def test_a_user_can_belong_to_many_businesses(api: Api, owner: dict) -> None:
    for i in range(3):
        new_business(api, owner["access_token"], f"客户{i}")
    assert len(api.get("/me", token=owner["access_token"]).get_json()["businesses"]) == 3


@pytest.mark.parametrize(
    ("uscc", "code"),
    [
        ("91110000600037341X", "uscc_check_mismatch"),
        ("9111000060003734", "invalid_uscc"),
        ("91110000600037341I", "invalid_uscc"),
    ],
)
def test_bad_uscc_is_refused(api: Api, owner: dict, uscc: str, code: str) -> None:
    r = api.post(
        "/businesses",
        {"name": "x", "uscc": uscc, "taxpayer_type": "general"},
        token=owner["access_token"],
    )
    assert r.status_code == 422 and r.get_json()["error"]["code"] == code
    assert Business.select().count() == 0


def test_check_mismatch_can_be_confirmed_and_is_flagged(api: Api, owner: dict) -> None:
    # An early pilot code printed with a non-matching check character (china-facts §7.3).
    r = api.post(
        "/businesses",
        {
            "name": "老字号",
            "uscc": "91350100M0001TGQXM",
            "taxpayer_type": "general",
            "accept_uscc_check_mismatch": True,
        },
        token=owner["access_token"],
    )
    assert r.status_code == 201 and r.get_json()["uscc_check_ok"] is False


def test_lowercase_and_spaces_in_uscc_are_normalised(api: Api, owner: dict) -> None:
    b = new_business(api, owner["access_token"], uscc=" 91340600ma2pbm9hxd ")
    assert b["uscc"] == OTHER_USCC


def test_invite_by_qr_code_then_accept_once(api: Api, owner: dict, business: dict) -> None:
    bid = business["id"]
    r = api.post(f"/businesses/{bid}/invites", {"role": "bookkeeper"}, token=owner["access_token"])
    assert r.status_code == 201
    invite = r.get_json()
    assert invite["link"].endswith("/invite/" + invite["token"])
    png = api.get(invite["qr_png_url"])
    assert png.status_code == 200 and png.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert [d.text for d in decoded] == [invite["link"]]
    assert Invite.get().token_hash != invite["token"]  # only the hash is stored

    info = api.get(f"/invites/{invite['token']}").get_json()
    assert info["business"]["name"] == business["name"] and info["role"] == "bookkeeper"

    bob = register(api, "bob")
    r = api.post(f"/invites/{invite['token']}/accept", {}, token=bob["access_token"])
    assert r.status_code == 201 and r.get_json()["role"] == "bookkeeper"
    carol = register(api, "carol")
    r = api.post(f"/invites/{invite['token']}/accept", {}, token=carol["access_token"])
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "invite_used"
    assert Membership.select().where(Membership.business == bid).count() == 2


def test_expired_invite_is_refused(api: Api, owner: dict, business: dict) -> None:
    token = api.post(
        f"/businesses/{business['id']}/invites", {"role": "employee"}, token=owner["access_token"]
    ).get_json()["token"]
    Invite.update(expires_at=dt.datetime(2000, 1, 1)).execute()
    bob = register(api, "bob")
    r = api.post(f"/invites/{token}/accept", {}, token=bob["access_token"])
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "invite_expired"
    assert Membership.select().count() == 1


def test_unknown_invite_is_404(api: Api, owner: dict) -> None:
    assert api.post("/invites/nope/accept", {}, token=owner["access_token"]).status_code == 404
    assert api.get("/invites/nope/qr.png").status_code == 404


def test_member_already_in_business_cannot_accept_again(
    api: Api, owner: dict, business: dict
) -> None:
    token = api.post(
        f"/businesses/{business['id']}/invites", {"role": "viewer"}, token=owner["access_token"]
    ).get_json()["token"]
    r = api.post(f"/invites/{token}/accept", {}, token=owner["access_token"])
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_member"


def test_members_roles_can_change_but_the_last_owner_stays(
    api: Api, owner: dict, business: dict
) -> None:
    bid = business["id"]
    join(api, owner["access_token"], bid, "employee", "emma")
    members = api.get(f"/businesses/{bid}/members", token=owner["access_token"]).get_json()["items"]
    emma = next(m for m in members if m["username"] == "emma")
    r = api.post(
        f"/businesses/{bid}/members/{emma['user_id']}/role",
        {"role": "bookkeeper"},
        token=owner["access_token"],
    )
    assert r.status_code == 200
    assert Membership.get(Membership.user == emma["user_id"]).role == "bookkeeper"
    r = api.post(
        f"/businesses/{bid}/members/{owner['user_id']}/role",
        {"role": "viewer"},
        token=owner["access_token"],
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "last_owner"
    r = api.post(
        f"/businesses/{bid}/members/{owner['user_id']}/remove", {}, token=owner["access_token"]
    )
    assert r.status_code == 409
    assert (
        api.post(
            f"/businesses/{bid}/members/{emma['user_id']}/remove", {}, token=owner["access_token"]
        ).status_code
        == 200
    )
    assert (
        api.get(
            f"/businesses/{bid}",
            token=api.post(
                "/auth/login", {"username": "emma", "password": "s3cret-pass"}
            ).get_json()["access_token"],
        ).status_code
        == 404
    )


def test_invalid_role_is_refused(api: Api, owner: dict, business: dict) -> None:
    r = api.post(
        f"/businesses/{business['id']}/invites", {"role": "admin"}, token=owner["access_token"]
    )
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid_field"
