"""Accounts: registration, password login with throttling, token refresh rotation, logout, /me."""

from __future__ import annotations

import pytest

from tests.conftest import Api, register


def test_register_then_login_by_username_and_phone(api: Api) -> None:
    tokens = register(api, "alice", "correct-horse-1", phone="13800138000")
    assert tokens["access_token"] and tokens["refresh_token"] and tokens["expires_in"] == 15 * 60
    for ident in ({"username": "alice"}, {"phone": "13800138000"}):
        r = api.post("/auth/login", {**ident, "password": "correct-horse-1"})
        assert r.status_code == 200, r.get_json()
        me = api.get("/me", token=r.get_json()["access_token"]).get_json()
        assert me["username"] == "alice" and me["phone"] == "13800138000" and me["businesses"] == []


def test_password_is_stored_as_a_salted_hash(api: Api) -> None:
    from app.models import User

    register(api, "alice", "same-password-1")
    register(api, "bob", "same-password-1")
    hashes = [u.password_hash for u in User.select().order_by(User.id)]
    assert all(h.startswith("scrypt:") and "same-password-1" not in h for h in hashes)
    assert hashes[0] != hashes[1]  # salted


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"username": "al", "password": "long-enough-1"}, 422, "invalid_username"),
        ({"username": "alice", "password": "short1"}, 422, "weak_password"),
        ({"username": "alice", "password": "onlyletters"}, 422, "weak_password"),
        (
            {"username": "alice", "password": "long-enough-1", "phone": "12345"},
            422,
            "invalid_phone",
        ),
        ({"username": "alice", "password": "long-enough-1", "admin": True}, 422, "unknown_field"),
        ({"password": "long-enough-1"}, 422, "missing_field"),
    ],
)
def test_registration_refusals(api: Api, body: dict, status: int, code: str) -> None:
    r = api.post("/auth/register", body)
    assert r.status_code == status and r.get_json()["error"]["code"] == code


def test_duplicate_username_and_phone_conflict(api: Api) -> None:
    register(api, "alice", phone="13800138000")
    r = api.post("/auth/register", {"username": "alice", "password": "long-enough-1"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "username_taken"
    r = api.post(
        "/auth/register",
        {"username": "alice2", "password": "long-enough-1", "phone": "13800138000"},
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "phone_taken"


def test_wrong_password_and_unknown_user_look_the_same(api: Api) -> None:
    register(api, "alice")
    a = api.post("/auth/login", {"username": "alice", "password": "wrong-pass-1"})
    b = api.post("/auth/login", {"username": "nobody", "password": "wrong-pass-1"})
    assert a.status_code == b.status_code == 401
    assert a.get_json() == b.get_json()


def test_repeated_failures_per_account_get_429_with_retry_after(api: Api) -> None:
    register(api, "alice", "right-pass-1")
    for _ in range(5):
        assert (
            api.post("/auth/login", {"username": "alice", "password": "wrong-pass-1"}).status_code
            == 401
        )
    r = api.post("/auth/login", {"username": "alice", "password": "right-pass-1"})
    assert r.status_code == 429
    assert r.get_json()["error"]["code"] == "login_throttled"
    assert 0 < int(r.headers["Retry-After"]) <= 900
    # Another account from another address is unaffected.
    register(api, "bob", "right-pass-1")
    ok = api.client.post(
        "/api/v1/auth/login",
        json={"username": "bob", "password": "right-pass-1"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert ok.status_code == 200


def test_repeated_failures_per_ip_get_429_across_accounts(app_factory) -> None:
    app = app_factory(LOGIN_MAX_FAILURES_PER_IP=4)
    api = Api(app.test_client())
    register(api, "carol", "right-pass-1")
    for i in range(4):
        api.post("/auth/login", {"username": f"guess{i}", "password": "wrong-pass-1"})
    r = api.post("/auth/login", {"username": "carol", "password": "right-pass-1"})
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_throttle_window_expires(app_factory) -> None:
    from app.models import LoginThrottle

    api = Api(app_factory().test_client())
    register(api, "alice", "right-pass-1")
    for _ in range(5):
        api.post("/auth/login", {"username": "alice", "password": "wrong-pass-1"})
    assert (
        api.post("/auth/login", {"username": "alice", "password": "right-pass-1"}).status_code
        == 429
    )
    import datetime as dt

    for row in LoginThrottle.select():
        LoginThrottle.update(window_start=row.window_start - dt.timedelta(seconds=901)).where(
            LoginThrottle.key == row.key
        ).execute()
    assert (
        api.post("/auth/login", {"username": "alice", "password": "right-pass-1"}).status_code
        == 200
    )


def test_refresh_rotates_and_reuse_revokes_the_session(api: Api) -> None:
    first = register(api, "alice")
    r = api.post("/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert api.get("/me", token=second["access_token"]).status_code == 200
    # The old refresh token comes back: someone copied it. The whole session ends.
    r = api.post("/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "refresh_token_reused"
    assert api.post("/auth/refresh", {"refresh_token": second["refresh_token"]}).status_code == 401
    r = api.get("/me", token=second["access_token"])
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "token_revoked"


def test_refresh_tokens_are_stored_hashed(api: Api) -> None:
    from app.models import RefreshToken

    tokens = register(api, "alice")
    stored = [t.token_hash for t in RefreshToken.select()]
    assert tokens["refresh_token"] not in stored and len(stored[0]) == 64


def test_logout_revokes_access_and_refresh_tokens(api: Api) -> None:
    t = register(api, "alice")
    other_device = api.post(
        "/auth/login", {"username": "alice", "password": "s3cret-pass"}
    ).get_json()
    assert api.post("/auth/logout", {}, token=t["access_token"]).status_code == 200
    r = api.get("/me", token=t["access_token"])
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "token_revoked"
    assert api.post("/auth/refresh", {"refresh_token": t["refresh_token"]}).status_code == 401
    assert api.get("/me", token=other_device["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing_token"),
        ("Bearer not-a-jwt", "invalid_token"),
        ("Basic abc", "missing_token"),
    ],
)
def test_bad_tokens_get_401_json(api: Api, header: str | None, code: str) -> None:
    headers = {"Authorization": header} if header else {}
    r = api.client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == code


def test_expired_access_token_is_refused(app_factory) -> None:
    import datetime as dt

    from flask_jwt_extended import create_access_token

    app = app_factory()
    api = Api(app.test_client())
    t = register(api, "alice")
    with app.app_context():
        expired = create_access_token(
            identity=str(t["user_id"]),
            additional_claims={"sid": 1},
            expires_delta=dt.timedelta(seconds=-1),
        )
    r = api.get("/me", token=expired)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "token_expired"
