#!/usr/bin/env python3
"""Front-end performance: initial JS+CSS (gzipped) and time to a usable dashboard in Chromium
with 4x CPU throttling and DevTools' 'Fast 3G' network profile.

    .venv/bin/python scripts/bench/frontend.py [--runs 5] [--write]

Needs a built miniprogram/dist (./scripts/run or ./scripts/test builds it), /usr/bin/chromium and
the playwright package (requirements-dev.txt). Starts gunicorn on a fresh SQLite database, makes an
owner with three months of entries through the API, then loads /home cold (new browser context,
empty cache) `--runs` times. "Usable" = the money figures are on screen
([data-testid=dashboard-ready]); the charts (ECharts, loaded after) are timed too.
--write replaces the "## Frontend" section of docs/benchmarks.md with the results.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DIST = ROOT / "miniprogram" / "dist"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARGS += ["--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
# Chrome DevTools' "Fast 3G" preset (front_end/core/sdk/NetworkManager.ts).
FAST_3G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.44 * 1024 * 1024 / 8 * 1000 / 1024,  # 180 KB/s
    "uploadThroughput": 675 * 1000 / 8,
}


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), 9))


def initial_assets() -> list[Path]:
    """What index.html loads before any route: the entry script, its modulepreloads, its CSS."""
    html = (DIST / "index.html").read_text(encoding="utf-8")
    refs = re.findall(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"', html)
    return [DIST / r.lstrip("/") for r in dict.fromkeys(refs)]


def call(base: str, method: str, path: str, body: object = None, token: str | None = None):
    headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data, headers, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def start_server(tmp: Path) -> tuple[subprocess.Popen, str]:
    from app import create_app
    from app.db import db
    from app.migrate import upgrade
    from tests.conftest import make_config

    url = f"sqlite:///{tmp / 'bench.db'}"
    with create_app(make_config(url, tmp / "instance")).app_context(), db.connection_context():
        upgrade()
    port = 8700 + os.getpid() % 200
    env = {**os.environ, "DATABASE_URL": url, "SUANPAN_INSTANCE_PATH": str(tmp / "instance")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=1)
            return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def seed(base: str) -> dict:
    tokens = call(
        base,
        "POST",
        "/api/v1/auth/register",
        {"username": "bench_owner", "password": "bench-pass-1"},
    )
    token = tokens["access_token"]
    biz = {"name": "基准咖啡馆", "uscc": "91310115MA1K3BTP2B", "taxpayer_type": "small_scale"}
    bid = call(base, "POST", "/api/v1/businesses", biz, token)["id"]
    today = date.today()
    for i in range(60):
        day = (today - timedelta(days=i * 1.5)).isoformat()
        kind, cat = (
            ("income", "sales") if i % 3 else ("expense", ["meals", "rent", "office"][i % 9 // 3])
        )
        body = {
            "kind": kind,
            "amount": f"{100 + i * 7}.50",
            "category": cat,
            "paid_with": "wechat",
            "date": day,
        }
        call(base, "POST", f"/api/v1/businesses/{bid}/entries/quick", body, token)
    return {"tokens": tokens, "bid": bid}


def received_into(sink: list[int]):
    return lambda event: sink.append(event["encodedDataLength"])


def measure(base: str, session: dict, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    init = (
        f"localStorage.setItem('sp.tokens', JSON.stringify({{access: {json.dumps(session['tokens']['access_token'])},"
        f" refresh: {json.dumps(session['tokens']['refresh_token'])}}}));"
        f"localStorage.setItem('sp.business', '{session['bid']}');"
    )
    usable, charts, bytes_in = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for _ in range(runs):
            ctx = browser.new_context(
                viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
            )
            ctx.add_init_script(init)
            page = ctx.new_page()
            cdp = ctx.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cdp.send("Network.emulateNetworkConditions", FAST_3G)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            received: list[int] = []
            cdp.on("Network.loadingFinished", received_into(received))
            page.goto(base + "/home", wait_until="commit")
            page.wait_for_selector('[data-testid="dashboard-ready"]', timeout=60_000)
            usable.append(page.evaluate("performance.now()"))
            page.wait_for_selector("canvas", timeout=60_000)
            charts.append(page.evaluate("performance.now()"))
            bytes_in.append(sum(received))
            ctx.close()
        browser.close()
    return {"usable_ms": usable, "charts_ms": charts, "bytes": bytes_in}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    if not (DIST / "index.html").is_file():
        raise SystemExit("miniprogram/dist is not built: run ./scripts/run or ./scripts/test first")

    assets = initial_assets()
    initial = sum(gz(p) for p in assets)
    js_all = {p.name: gz(p) for p in (DIST / "assets").glob("*.js")}
    echarts = sum(
        v for k, v in js_all.items() if k.startswith(("charts-", "TrendChart", "DonutChart"))
    )
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_server(Path(tmp))
        try:
            result = measure(base, seed(base), args.runs)
        finally:
            proc.terminate()
            proc.wait(15)
    med_usable = statistics.median(result["usable_ms"])
    med_charts = statistics.median(result["charts_ms"])
    lines = [
        "## Frontend",
        "",
        f"Measured by `scripts/bench/frontend.py` on {date.today().isoformat()} ({args.runs} cold loads;"
        " Debian Chromium headless, 375x667 touch viewport, 2 gunicorn workers on SQLite, an owner"
        " with 60 entries).",
        "",
        "| measure | result | goal |",
        "| --- | --- | --- |",
        f"| initial JS+CSS, gzipped (index.html's entry script, modulepreloads, CSS: {len(assets)} files)"
        f" | {initial / 1024:.1f} KB | < 250 KB |",
        f"| ECharts chunks, gzipped (loaded only by the dashboard's charts) | {echarts / 1024:.1f} KB | lazy |",
        f"| time to usable dashboard, 4x CPU + Fast 3G (median; runs: "
        f"{', '.join(f'{v:.0f}' for v in result['usable_ms'])} ms) | {med_usable / 1000:.2f} s | < 2.5 s |",
        f"| time to charts drawn, same conditions (median) | {med_charts / 1000:.2f} s | — |",
        f"| bytes over the wire for /home, cold (median) | {statistics.median(result['bytes']) / 1024:.0f} KB | — |",
        "",
        "'Usable' is when the money figures are on screen (`[data-testid=dashboard-ready]`), measured"
        " with `performance.now()` from navigation start. Fast 3G is DevTools' preset (562.5 ms"
        " latency, 180 KB/s down, 84 KB/s up), set with CDP `Network.emulateNetworkConditions`;"
        " the CPU slowdown with `Emulation.setCPUThrottlingRate`.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        doc = ROOT / "docs" / "benchmarks.md"
        text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n\n"
        pattern = re.compile(r"## Frontend\n.*?(?=\n## |\Z)", re.S)
        text = (
            pattern.sub(report.rstrip("\n") + "\n", text)
            if pattern.search(text)
            else text.rstrip("\n") + "\n\n" + report
        )
        doc.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
