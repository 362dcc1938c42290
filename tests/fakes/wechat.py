"""A stand-in for api.weixin.qq.com's auth.code2Session, as a real HTTP server on loopback.

It speaks the protocol of china-facts §8: GET /sns/jscode2session with appid, secret, js_code
and grant_type=authorization_code; JSON answers with openid/session_key/unionid or errcode/errmsg.
Codes are single-use, like WeChat's.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeWeChat:
    def __init__(self, app_id: str = "wx-test-app", secret: str = "test-secret") -> None:
        self.app_id = app_id
        self.secret = secret
        # code -> the answer WeChat would give for it
        self.codes: dict[str, dict] = {}
        self.used: set[str] = set()
        self.requests: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append(query)
                if url.path != "/sns/jscode2session":
                    return self._send(404, {"errcode": 404, "errmsg": "not found"})
                self._send(200, fake.answer(query))

            def _send(self, status: int, body: dict) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                # WeChat really does answer with text/plain here.
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, q: dict[str, str]) -> dict:
        if q.get("grant_type") != "authorization_code":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if q.get("appid") != self.app_id:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if q.get("secret") != self.secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        code = q.get("js_code", "")
        if code in self.used:
            return {"errcode": 40163, "errmsg": "code been used"}
        answer = self.codes.get(code)
        if answer is None:
            return {"errcode": 40029, "errmsg": "invalid code"}
        if "openid" in answer:
            self.used.add(code)
            return {"session_key": "c2Vzc2lvbi1rZXktMTIzNA==", **answer}
        return answer

    def __enter__(self) -> FakeWeChat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
