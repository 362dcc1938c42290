"""Browser tests: the real app (gunicorn, 2 worker processes, a fresh migrated SQLite database)
serving the built front end, driven by Playwright in Debian's headless Chromium with an
iPhone-sized touch viewport. Screenshots of each page go to tests/e2e/artifacts/ (git-ignored).

They run in the SQLite pass of ./scripts/test (the front end does not care which database the
API uses, and the API is tested on PostgreSQL by the rest of the suite). Without Chromium or a
built front end they are skipped, except with CI=true, where that is a failure.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.db import db
from app.migrate import upgrade
from tests.conftest import make_config

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "miniprogram" / "dist"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# iPhone SE (2nd gen): the 375 px width the app is designed for first.
PHONE = {
    "viewport": {"width": 375, "height": 667},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    ),
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


def _unavailable() -> str | None:
    if os.environ.get("SUANPAN_TEST_DB", "sqlite") != "sqlite":
        return "browser tests run in the SQLite pass only"
    problems = []
    if not os.access(CHROMIUM, os.X_OK):
        problems.append(f"{CHROMIUM} is missing (apt-get install chromium)")
    if not (DIST / "index.html").is_file():
        problems.append("miniprogram/dist is not built (./scripts/test builds it)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        problems.append("the playwright package is not installed (requirements-dev.txt)")
    if not problems:
        return None
    if os.environ.get("CI") == "true":
        pytest.fail("browser tests required with CI=true: " + "; ".join(problems), pytrace=False)
    return "; ".join(problems)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    mine = [
        i
        for i in items
        if Path(str(i.fspath)).parent == here and Path(str(i.fspath)).name.startswith("test_e2e_")
    ]
    if mine and (reason := _unavailable()):
        for item in mine:
            item.add_marker(pytest.mark.skip(reason=reason))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url(base_dir: Path) -> str:
    return f"sqlite:///{base_dir / 'suanpan.db'}"


@contextmanager
def run_server(
    base_dir: Path, extra_env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[str]:
    """gunicorn (2 workers) on a fresh migrated SQLite database in base_dir; yields its base URL.
    extra_env: more configuration for the app (e.g. a fake WeChat Pay server's)."""
    instance = base_dir / "instance"
    url = _database_url(base_dir)
    app = create_app(make_config(url, instance))
    with app.app_context(), db.connection_context():
        upgrade()
    port = port or free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SUANPAN_INSTANCE_PATH": str(instance),
        "SUANPAN_ENV": "development",
        **(extra_env or {}),
    }
    log = base_dir / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
            + ["wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("gunicorn did not start:\n" + log.read_text()) from None
            time.sleep(0.2)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(15)


@contextmanager
def books(base_dir: Path) -> Iterator[None]:
    """The database of the server run_server(base_dir) started, open in this process (to set
    up what the API cannot, and to check what happened). Short: the server keeps running."""
    app = create_app(make_config(_database_url(base_dir), base_dir / "instance"))
    with app.app_context(), db.connection_context():
        yield


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_server(tmp_path_factory.mktemp("e2e")) as base:
        yield base


class Api:
    """Makes real accounts and data through the HTTP API (as another phone would)."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body: Any = None, raw: bool = False) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as err:
            raise AssertionError(f"{method} {path}: {err.code} {err.read()!r}") from None
        return payload if raw else json.loads(payload)

    def register(self, username: str, display_name: str, password: str = "mima-2026") -> Api:
        tokens = self.call(
            "POST",
            "/api/v1/auth/register",
            {"username": username, "password": password, "display_name": display_name},
        )
        return Api(self.base, tokens["access_token"])

    def business(self, name: str, uscc: str = "91310115MA1K3BTP2B") -> int:
        body = {"name": name, "uscc": uscc, "taxpayer_type": "small_scale"}
        return self.call("POST", "/api/v1/businesses", body)["id"]

    def add_member(self, bid: int, role: str, member: Api) -> None:
        invite = self.call("POST", f"/api/v1/businesses/{bid}/invites", {"role": role})
        member.call("POST", f"/api/v1/invites/{invite['token']}/accept", {})

    def entries(self, bid: int, **query: str) -> list[dict[str, Any]]:
        qs = urllib.parse.urlencode(query)
        return self.call("GET", f"/api/v1/businesses/{bid}/entries?{qs}")["items"]


@pytest.fixture(scope="session")
def api(server: str) -> Api:
    return Api(server)


@pytest.fixture
def unique() -> Callable[[str], str]:
    return lambda prefix: f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def phones(browser: Any, base: str) -> Iterator[Callable[..., Any]]:
    """phone(**overrides) -> a new page in a fresh iPhone-sized context (its own storage) on
    base; uncaught errors in any page fail the test."""
    contexts = []
    errors: list[str] = []

    def make(**overrides: Any) -> Any:
        ctx = browser.new_context(base_url=base, **{**PHONE, **overrides})
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    try:
        yield make
    finally:
        for ctx in contexts:
            ctx.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def phone(browser: Any, server: str) -> Iterator[Callable[..., Any]]:
    """phone(**overrides) -> a new page in a fresh iPhone-sized context (its own storage)."""
    with phones(browser, server) as make:
        yield make


def shot(page: Any, name: str) -> None:
    """Keep a screenshot of the page as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(150)  # let transitions settle
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(page: Any, username: str, password: str = "mima-2026") -> None:
    page.goto("/")
    page.get_by_test_id("login-account").locator("input").fill(username)
    page.get_by_test_id("login-password").locator("input").fill(password)
    page.get_by_test_id("login-submit").click()
