"""The test's own app served on a real loopback socket, for peers that call us over HTTP (the
WeChat Pay fake delivering notifications) where the Flask test client would skip the socket,
the HTTP parser and the server's threading.

werkzeug's threaded server in this process: the app object, its configuration and the test's
database are the very ones the test inspects. The full multi-process stack (gunicorn) is
covered by the tests that start it (tests/test_http_end_to_end.py and one payments test).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(
    database_url: str, tmp_path: Path, env: dict[str, str] | None = None, workers: int = 2
) -> Iterator[str]:
    """wsgi:app under gunicorn with worker processes, as ./scripts/run serves it, on the
    test's database; yields the base URL. ``env`` adds configuration (e.g. WECHATPAY_*)."""
    port = free_port()
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SUANPAN_INSTANCE_PATH": str(tmp_path / "instance"),
        "SUANPAN_ENV": "development",
        **(env or {}),
    }
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("gunicorn did not start: " + log.read_text())
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(15)


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port); yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def post_raw(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """POST bytes as they are; (status, parsed JSON body or None)."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


class HttpResponse:
    """The parts of a Flask test response the tests use, from a real HTTP exchange."""

    def __init__(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.data = data

    def get_json(self) -> Any:
        return json.loads(self.data) if self.data else None


class HttpApi:
    """tests.conftest.Api's interface over a real socket: the same calls, encoded by werkzeug
    exactly as the test client would (JSON, multipart uploads), then sent with urllib to a
    running server. Lets a test written for the test client run against gunicorn unchanged."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.token = token
        self.default_headers: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        data: Any = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
        query: dict[str, str] | None = None,
    ) -> HttpResponse:
        from werkzeug.test import EnvironBuilder

        url = path if path.startswith("/api/") else "/api/v1" + path
        hdrs = dict(self.default_headers)
        tok = token if token is not None else self.token
        if tok:
            hdrs["Authorization"] = f"Bearer {tok}"
        hdrs.update(headers or {})
        kwargs: dict[str, Any] = {"method": method, "headers": hdrs, "query_string": query}
        if data is not None:
            kwargs["data"] = data
        elif json is not None:
            kwargs["json"] = json
        builder = EnvironBuilder(url, **kwargs)
        try:
            req = builder.get_request()
            body = req.get_data()
            send_headers = {k: v for k, v in req.headers.items() if k.lower() != "host"}
            full = self.base + req.full_path.rstrip("?")
        finally:
            builder.close()
        r = urllib.request.Request(full, data=body or None, headers=send_headers, method=method)
        try:
            with urllib.request.urlopen(r, timeout=30) as resp:
                return HttpResponse(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as e:
            return HttpResponse(e.code, dict(e.headers), e.read())

    def get(self, path: str, **kw: Any) -> HttpResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> HttpResponse:
        return self.request("POST", path, json, **kw)

    def delete(self, path: str, **kw: Any) -> HttpResponse:
        return self.request("DELETE", path, **kw)
