"""WeChat subscription messages: subscribeMessage.send, with a stable access token.

Protocol (china-facts §10, [W6], [W7]): POST {base}/cgi-bin/stable_token
{"grant_type": "client_credential", "appid", "secret"} -> {"access_token", "expires_in"};
POST {base}/cgi-bin/message/subscribe/send?access_token=... with touser, template_id, page,
miniprogram_state, lang and data {key: {value}} -> {"errcode", "errmsg"}. Template values are
limited per type (thing <= 20 characters, ...) and are clipped here before sending.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

# Value limits per template key type (china-facts §10). Keys look like thing1, amount2, date3.
LIMITS = {
    "thing": 20,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "character_string": 32,
    "phone_number": 17,
    "car_number": 8,
    "name": 10,
    "phrase": 5,
    "amount": 11,
    "date": 32,
    "time": 32,
}


def key_type(key: str) -> str:
    return key.rstrip("0123456789")


def clip(key: str, value: str) -> str:
    limit = LIMITS.get(key_type(key), 20)
    if len(value) <= limit:
        return value
    return value[: limit - 1] + "…" if key_type(key) == "thing" else value[:limit]


@dataclass(frozen=True)
class SendResult:
    errcode: int
    errmsg: str

    @property
    def ok(self) -> bool:
        return self.errcode == 0


class WeChatSendError(Exception):
    """WeChat could not be reached or answered nonsense: nothing was delivered."""


class SubscribeMessageClient:
    def __init__(self, app_id: str, secret: str, api_base: str, timeout: float = 5.0) -> None:
        self.app_id = app_id
        self.secret = secret
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(
            self.api_base + path,
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                data = json.loads(resp.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise WeChatSendError(f"WeChat call {path.split('?')[0]} failed: {exc}") from None
        if not isinstance(data, dict):
            raise WeChatSendError("WeChat answered with something that is not a JSON object")
        return data

    def access_token(self, force: bool = False) -> str:
        with self._lock:
            if self._token and not force and self._token[1] > time.monotonic():
                return self._token[0]
            data = self._post(
                "/cgi-bin/stable_token",
                {"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret},
            )
            if "access_token" not in data:
                raise WeChatSendError(
                    f"stable_token refused: {data.get('errcode')} {data.get('errmsg')}"
                )
            ttl = int(data.get("expires_in") or 7200)
            self._token = (data["access_token"], time.monotonic() + max(ttl - 300, 60))
            return self._token[0]

    def send(
        self,
        openid: str,
        template_id: str,
        data: dict[str, str],
        page: str = "",
        state: str = "formal",
        lang: str = "zh_CN",
    ) -> SendResult:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "miniprogram_state": state,
            "lang": lang,
            "data": {k: {"value": clip(k, v)} for k, v in data.items()},
        }
        if page:
            body["page"] = page
        for attempt in (0, 1):
            token = self.access_token(force=attempt == 1)
            answer = self._post(f"/cgi-bin/message/subscribe/send?access_token={token}", body)
            code = int(answer.get("errcode") or 0)
            if code in (40001, 42001) and attempt == 0:  # token invalid or expired: once more
                continue
            return SendResult(code, str(answer.get("errmsg", "")))
        raise AssertionError("unreachable")
