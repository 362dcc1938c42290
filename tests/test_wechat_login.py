"""WeChat login against a real loopback HTTP server speaking auth.code2Session."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.fakes.wechat import FakeWeChat


@pytest.fixture
def wechat():  # type: ignore[no-untyped-def]
    with FakeWeChat() as fake:
        yield fake


@pytest.fixture
def wx_api(app_factory, wechat: FakeWeChat) -> Api:
    app = app_factory(
        WECHAT_APP_ID=wechat.app_id,
        WECHAT_APP_SECRET=wechat.secret,
        WECHAT_API_BASE=wechat.base_url,
    )
    return Api(app.test_client())


def test_code_is_exchanged_and_the_user_found_or_created(wx_api: Api, wechat: FakeWeChat) -> None:
    wechat.codes["code-1"] = {"openid": "o-alice"}
    wechat.codes["code-2"] = {"openid": "o-alice"}
    first = wx_api.post("/auth/wechat", {"code": "code-1"})
    assert first.status_code == 200, first.get_json()
    assert wechat.requests[-1] == {
        "appid": "wx-test-app",
        "secret": "test-secret",
        "js_code": "code-1",
        "grant_type": "authorization_code",
    }
    second = wx_api.post("/auth/wechat", {"code": "code-2"})
    assert second.get_json()["user_id"] == first.get_json()["user_id"]
    me = wx_api.get("/me", token=second.get_json()["access_token"]).get_json()
    assert me["wechat_linked"] and not me["is_dev_account"]
    assert "provider" not in first.get_json()


def test_unionid_links_the_same_person_across_mini_programs(
    wx_api: Api, wechat: FakeWeChat
) -> None:
    from app.models import User

    wechat.codes["a"] = {"openid": "o-1", "unionid": "u-1"}
    user_id = wx_api.post("/auth/wechat", {"code": "a"}).get_json()["user_id"]
    assert User.get_by_id(user_id).wechat_unionid == "u-1"


@pytest.mark.parametrize(
    ("answer", "status", "code"),
    [
        (None, 401, "wechat_invalid_code"),  # unknown code: 40029
        ({"errcode": 45011, "errmsg": "api minute-quota reach limit"}, 429, "wechat_rate_limited"),
        ({"errcode": -1, "errmsg": "system error"}, 503, "wechat_busy"),
        ({"errcode": 40226, "errmsg": "high risk user"}, 401, "wechat_user_blocked"),
        ({"errcode": 99999, "errmsg": "something new"}, 502, "wechat_error"),
    ],
)
def test_wechat_errors_become_clear_api_errors(
    wx_api: Api, wechat: FakeWeChat, answer, status: int, code: str
) -> None:
    from app.models import User

    if answer is not None:
        wechat.codes["c"] = answer
    r = wx_api.post("/auth/wechat", {"code": "c"})
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"]["code"] == code
    assert User.select().count() == 0
    if status == 429:
        assert r.headers["Retry-After"] == "60"


def test_a_code_works_once(wx_api: Api, wechat: FakeWeChat) -> None:
    wechat.codes["once"] = {"openid": "o-1"}
    assert wx_api.post("/auth/wechat", {"code": "once"}).status_code == 200
    r = wx_api.post("/auth/wechat", {"code": "once"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "wechat_code_used"


def test_wrong_app_secret_is_an_upstream_error_not_a_500(app_factory, wechat: FakeWeChat) -> None:
    app = app_factory(
        WECHAT_APP_ID=wechat.app_id, WECHAT_APP_SECRET="wrong", WECHAT_API_BASE=wechat.base_url
    )
    r = Api(app.test_client()).post("/auth/wechat", {"code": "x"})
    assert r.status_code == 502 and r.get_json()["error"]["details"]["errcode"] == 40125


def test_unreachable_wechat_is_503(app_factory) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = app_factory(
        WECHAT_APP_ID="wx",
        WECHAT_APP_SECRET="s",
        WECHAT_API_BASE=f"http://127.0.0.1:{port}",
        WECHAT_TIMEOUT_SECONDS=2,
    )
    r = Api(app.test_client()).post("/auth/wechat", {"code": "x"})
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "wechat_unreachable"


def test_development_provider_is_labelled(api: Api) -> None:
    r = api.post("/auth/wechat", {"code": "dev:alice"})
    assert r.status_code == 200
    body = r.get_json()
    assert "development" in body["provider"]
    me = api.get("/me", token=body["access_token"]).get_json()
    assert me["is_dev_account"] and me["display_name"].startswith("[DEV]")


def test_development_provider_can_be_switched_off(app_factory) -> None:
    app = app_factory(WECHAT_DEV_LOGIN=False)
    r = Api(app.test_client()).post("/auth/wechat", {"code": "dev:alice"})
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "wechat_not_configured"
