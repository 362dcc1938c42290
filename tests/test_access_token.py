"""The access-token check that every authenticated route makes (app/api/access_token.py and
app.services.auth.authorize): one verification of the token, then the session and, on a business
route, the membership in one query. Nothing about it is cached between requests."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os

import jwt
import pytest
from flask import Flask

from tests.conftest import Api, new_business, register

QUICK = {"kind": "expense", "amount": "35.50", "category": "meals", "paid_with": "wechat"}


def _token(app: Flask, **changes: object) -> str:
    """An access token for user 1 / session 1 signed with the app's key, claims changed."""
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"sub": "1", "sid": 1, "type": "access", "iat": now, "nbf": now, "exp": now + 60}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")


def test_logout_takes_effect_at_once_on_a_business_route(api: Api) -> None:
    owner = register(api, "alice")
    biz = new_business(api, owner["access_token"])
    url = f"/businesses/{biz['id']}/entries/quick"
    assert api.post(url, QUICK, token=owner["access_token"]).status_code == 201
    assert api.post("/auth/logout", {}, token=owner["access_token"]).status_code == 200
    r = api.post(url, QUICK, token=owner["access_token"])
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "token_revoked"
    r = api.get(f"/businesses/{biz['id']}/accounts", token=owner["access_token"])
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "token_revoked"


def test_a_revoked_session_is_401_before_tenancy(api: Api) -> None:
    """A logged-out caller learns nothing about a business they are not in (401, not 404)."""
    alice = register(api, "alice")
    bob = register(api, "bob")
    biz = new_business(api, alice["access_token"])
    r = api.get(f"/businesses/{biz['id']}/accounts", token=bob["access_token"])
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "business_not_found"
    api.post("/auth/logout", {}, token=bob["access_token"])
    r = api.get(f"/businesses/{biz['id']}/accounts", token=bob["access_token"])
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "token_revoked"


def test_session_must_belong_to_the_tokens_user(app: Flask, api: Api) -> None:
    alice = register(api, "alice")
    bob = register(api, "bob")
    biz = new_business(api, alice["access_token"])
    alice_sid = jwt.decode(alice["access_token"], options={"verify_signature": False})["sid"]
    forged = _token(app, sub=str(bob["user_id"]), sid=alice_sid)
    for path in ("/me", f"/businesses/{biz['id']}/accounts"):
        r = api.get(path, token=forged)
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "token_revoked"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"type": "refresh"}, "invalid_token"),
        ({"sub": None}, "invalid_token"),
        ({"sub": 1}, "invalid_token"),  # sub must be a string (RFC 7519)
        ({"sid": None}, "token_revoked"),
        ({"exp": 1}, "token_expired"),
        ({"nbf": 4102444800}, "invalid_token"),  # not valid before 2100
    ],
)
def test_claims_are_checked(app: Flask, api: Api, changes: dict, code: str) -> None:
    register(api, "alice")
    r = api.get("/me", token=_token(app, **changes))
    assert r.status_code == 401 and r.get_json()["error"]["code"] == code


def test_signature_and_algorithm_are_checked(app: Flask, api: Api) -> None:
    t = register(api, "alice")
    head, payload, sig = t["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "==="))
    claims["sub"] = "2"
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    none_alg = jwt.encode(claims, None, algorithm="none")
    other_key = jwt.encode(claims, "x" * 64, algorithm="HS256")
    for token in (f"{head}.{tampered}.{sig}", none_alg, other_key, t["access_token"] + "x"):
        r = api.get("/me", token=token)
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"
    assert api.get("/me", token=t["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer", "invalid_token"),
        ("Bearer a b", "invalid_token"),
        ("Bearer a, Bearer b", "missing_token"),
    ],
)
def test_malformed_authorization_headers(api: Api, header: str, code: str) -> None:
    r = api.client.get("/api/v1/me", headers={"Authorization": header})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == code


def test_stored_responses_open_with_an_independent_aes_gcm(app: Flask) -> None:
    """The stored layout is base64(nonce 12 | tag 16 | ciphertext); pycryptodome (which sealed
    responses before) opens what is sealed now, and the reverse."""
    from Crypto.Cipher import AES

    from app.api.idempotency import open_body, seal_body

    with app.app_context():
        key = hashlib.sha256(
            b"suanpan/idempotency-response/v1\x00" + app.config["SECRET_KEY"].encode()
        ).digest()
        text = '{"id": 1, "memo": "午饭"}'
        raw = base64.b64decode(seal_body(text))
        cipher = AES.new(key, AES.MODE_GCM, nonce=raw[:12])
        assert cipher.decrypt_and_verify(raw[28:], raw[12:28]).decode() == text

        nonce = os.urandom(12)
        ct, tag = AES.new(key, AES.MODE_GCM, nonce=nonce).encrypt_and_digest(text.encode())
        assert open_body(base64.b64encode(nonce + tag + ct).decode()) == text
        with pytest.raises(Exception):  # noqa: B017 - any authentication failure
            open_body(base64.b64encode(nonce + tag + ct[:-1] + b"!").decode())
