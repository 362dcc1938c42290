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
