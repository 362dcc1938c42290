"""WeChat mini-program login: auth.code2Session (GET /sns/jscode2session).

Protocol per china-facts §8: the server exchanges the single-use `code` from wx.login() for the
user's openid (and unionid when the mini-program is bound to an Open Platform account). The
session_key never leaves the server; we do not keep it at all, as nothing here decrypts user data.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from app.errors import ApiError, TooManyRequests, Unauthorized, Unavailable, UpstreamError


@dataclass(frozen=True)
class WeChatIdentity:
    openid: str
    unionid: str | None
    dev: bool = False


# errcode -> what the caller should see. Anything else is reported as an upstream error.
_ERRORS: dict[int, tuple[type[ApiError], str, str]] = {
    40029: (
        Unauthorized,
        "wechat_invalid_code",
        "WeChat login code is invalid or already used; call wx.login() again",
    ),
    40163: (
        Unauthorized,
        "wechat_code_used",
        "WeChat login code has already been used; call wx.login() again",
    ),
    45011: (
        TooManyRequests,
        "wechat_rate_limited",
        "WeChat login is rate-limited for this user; wait a minute",
    ),
    40226: (Unauthorized, "wechat_user_blocked", "WeChat blocked this login as high-risk"),
    -1: (Unavailable, "wechat_busy", "WeChat is busy; try again in a moment"),
}


class WeChatClient:
    def __init__(self, app_id: str, app_secret: str, api_base: str, timeout: float = 5.0) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    def code2session(self, code: str) -> WeChatIdentity:
        query = urllib.parse.urlencode(
            {
                "appid": self.app_id,
                "secret": self.app_secret,
                "js_code": code,
                "grant_type": "authorization_code",
            }
        )
        url = f"{self.api_base}/sns/jscode2session?{query}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as resp:
                body = json.loads(resp.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise Unavailable(
                f"WeChat could not be reached: {exc}", code="wechat_unreachable"
            ) from None
        except ValueError:
            raise UpstreamError(
                "WeChat answered with something that is not JSON", code="wechat_bad_response"
            ) from None
        errcode = int(body.get("errcode") or 0)
        if errcode:
            cls, code_name, message = _ERRORS.get(
                errcode,
                (
                    UpstreamError,
                    "wechat_error",
                    f"WeChat refused the login: {body.get('errmsg', '')}",
                ),
            )
            err = cls(
                message,
                code=code_name,
                details={"errcode": errcode, "errmsg": body.get("errmsg", "")},
            )
            if errcode == 45011:
                err.headers["Retry-After"] = "60"
            raise err
        openid = body.get("openid")
        if not isinstance(openid, str) or not openid:
            raise UpstreamError("WeChat answered without an openid", code="wechat_bad_response")
        unionid = body.get("unionid") if isinstance(body.get("unionid"), str) else None
        return WeChatIdentity(openid=openid, unionid=unionid)


class DevWeChatProvider:
    """DEVELOPMENT ONLY: stands in for WeChat when no app id is configured.

    Any code logs in as the dev user named by the code (`dev:alice` -> openid `dev-alice`), so a
    browser without WeChat can try the flow. The production config refuses to enable it.
    """

    label = "development WeChat login provider (not WeChat)"

    def code2session(self, code: str) -> WeChatIdentity:
        name = code.split(":", 1)[1] if code.startswith("dev:") else code
        name = "".join(ch for ch in name if ch.isalnum() or ch in "-_")[:40] or "user"
        return WeChatIdentity(openid=f"dev-{name}", unionid=None, dev=True)
