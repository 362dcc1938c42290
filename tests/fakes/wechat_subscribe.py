"""A stand-in for subscribeMessage.send and getStableAccessToken, as a real HTTP server on loopback.

It speaks china-facts §10 / [W6] [W7]: POST /cgi-bin/stable_token with client_credential, appid
and secret -> access_token; POST /cgi-bin/message/subscribe/send?access_token=... with touser,
template_id, data -> {errcode, errmsg}. Like WeChat, each one-time subscription the user
accepted allows exactly one message: without one the answer is 43101. `thing` values longer
than 20 characters are refused with 47003, as WeChat does.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeSubscribeMessage:
    def __init__(self, app_id: str = "wx-test-app", secret: str = "test-secret") -> None:
        self.app_id = app_id
        self.secret = secret
        self.tokens: set[str] = set()
        # (openid, template_id) -> one-time subscriptions the user accepted and not yet used
        self.subscriptions: dict[tuple[str, str], int] = {}
        self.templates: set[str] = set()
        self.sent: list[dict] = []
        self.token_calls = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length).decode("utf-8"))
                except ValueError:
                    return self._send({"errcode": 47001, "errmsg": "data format error"})
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/cgi-bin/stable_token":
                    return self._send(fake.stable_token(body))
                if url.path == "/cgi-bin/message/subscribe/send":
                    return self._send(fake.send(query.get("access_token", ""), body))
                self._send({"errcode": 404, "errmsg": "not found"})

            def _send(self, body: dict) -> None:
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stable_token(self, body: dict) -> dict:
        if body.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if body.get("appid") != self.app_id or body.get("secret") != self.secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        with self.lock:
            self.token_calls += 1
            token = f"token-{self.token_calls}"
            self.tokens.add(token)
        return {"access_token": token, "expires_in": 7200}

    def send(self, token: str, body: dict) -> dict:
        if token not in self.tokens:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        template = body.get("template_id")
        if template not in self.templates:
            return {"errcode": 40037, "errmsg": "invalid template_id"}
        openid = body.get("touser", "")
        if not openid:
            return {"errcode": 40003, "errmsg": "invalid openid"}
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            return {"errcode": 47003, "errmsg": "argument invalid! data is empty"}
        for key, item in data.items():
            value = item.get("value") if isinstance(item, dict) else None
            if not isinstance(value, str):
                return {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value"}
            if key.startswith("thing") and len(value) > 20:
                return {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value"}
        with self.lock:
            left = self.subscriptions.get((openid, template), 0)
            if left <= 0:
                return {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
            self.subscriptions[(openid, template)] = left - 1
            self.sent.append(body)
        return {"errcode": 0, "errmsg": "ok"}

    def __enter__(self) -> FakeSubscribeMessage:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
