#!/usr/bin/env python3
"""API throughput benchmark: quick-record POSTs vs. an empty JSON endpoint, in one run.

    .venv/bin/python scripts/bench/api.py [--backend sqlite|postgres|both] [--seconds 10]
        [--connections 16] [--threads 2] [--workers 2] [--warmup 2] [--json [PATH|-]]
        [--ref COMMIT] [--profile N] [--no-http] [--keep]

For each backend it builds a throw-away database (a temp SQLite file, or a fresh PostgreSQL
database `suanpan_bench_<random>` on postgresql://postgres@127.0.0.1:5432, dropped at the end),
applies the migrations, starts gunicorn (process workers) on a free loopback port with its
instance/ in a temp dir, registers a user, creates a business, warms up, then drives wrk
(scripts/bench/wrk/bench.lua) at
  (a) GET  /api/v1/ping                                  the empty JSON baseline, and
  (b) POST /api/v1/businesses/<id>/entries/quick         with a unique Idempotency-Key each.
Afterwards it reconciles the database with what wrk saw, prints a table and the goals
(>= 1000 entries/s, p99 < 50 ms, >= 1/3 of the empty endpoint's rate). Exit status 1 only when
a correctness check fails; performance goals are reported, never asserted.

--profile N also profiles N quick records per backend in-process (Flask test client, cProfile,
plus per-statement SQL timing at the cursor). --ref COMMIT measures a commit exported with
`git archive` instead of the working tree. Results and the command go in docs/benchmarks.md.

Traffic goes to 127.0.0.1 only; every wait is bounded in time. The machine's speed drifts, so
compare only numbers from one run. Needs wrk (`apt-get install -y wrk`; installed by this script
when it runs as root).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LUA = Path(__file__).resolve().parent / "wrk" / "bench.lua"
VENV_BIN = ROOT / ".venv" / "bin"
APP_DIR = ROOT  # the tree whose app is measured; --ref exports a commit elsewhere
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BASE_URL = "postgresql://postgres@127.0.0.1:5432"
QUICK_BODY = {
    "kind": "expense",
    "amount": "35.50",
    "category": "meals",
    "paid_with": "wechat",
    "memo": "bench",
}
GOAL_RPS = 1000.0
GOAL_P99_MS = 50.0
GOAL_RATIO = 1 / 3


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- wrk


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    how = "install it with: sudo apt-get install -y wrk   (Debian/Ubuntu package 'wrk')"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"wrk (the load generator) is not installed; {how}")
    log("wrk is missing; installing it with apt-get (running as root)")

    def candidate() -> bool:
        out = subprocess.run(
            ["apt-cache", "policy", "wrk"], capture_output=True, text=True, timeout=60
        ).stdout
        return "Candidate:" in out and "Candidate: (none)" not in out

    if not candidate():
        subprocess.run(["apt-get", "update", "-qq"], check=False, timeout=300)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        check=False,
        timeout=300,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    found = shutil.which("wrk")
    if not found:
        sys.exit(f"could not install wrk; {how}")
    return found


def wrk_version(wrk: str) -> str:
    try:
        out = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip().splitlines()[0].split(" Copyright")[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def run_wrk(
    wrk: str,
    url: str,
    *,
    mode: str,
    seconds: float,
    connections: int,
    threads: int,
    token: str = "",
    tag: str,
    workdir: Path,
) -> dict[str, Any]:
    out_file = workdir / f"wrk-{tag}.json"
    out_file.unlink(missing_ok=True)
    env = {
        **os.environ,
        "BENCH_MODE": mode,
        "BENCH_TOKEN": token,
        "BENCH_BODY": json.dumps(QUICK_BODY, separators=(",", ":")),
        "BENCH_RUN": f"{tag}-{secrets.token_hex(4)}",
        "BENCH_OUT": str(out_file),
    }
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(LUA),
        url,
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=seconds + 60, check=False
    )
    if proc.returncode != 0 or not out_file.exists():
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr}\n{proc.stdout}")
    res = json.loads(out_file.read_text())
    res["wrk_text"] = proc.stdout
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
    res["non_2xx"] = res["err_status"]
    res["socket_errors"] = (
        res["err_connect"] + res["err_read"] + res["err_write"] + res["err_timeout"]
    )
    return res


# --------------------------------------------------------------------------- databases


class Backend:
    name = "?"
    url = ""

    def setup(self, tmp: Path) -> None: ...

    def count(self, table: str) -> int:
        raise NotImplementedError

    def teardown(self) -> None: ...


class SqliteBackend(Backend):
    name = "sqlite"

    def setup(self, tmp: Path) -> None:
        self.path = tmp / "bench.db"
        self.url = f"sqlite:///{self.path}"  # absolute: sqlite:////tmp/...

    def count(self, table: str) -> int:
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        finally:
            con.close()

    def describe(self) -> str:
        return (
            f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL), file in {self.path.parent}"
        )


class PostgresBackend(Backend):
    name = "postgres"

    def setup(self, tmp: Path) -> None:
        import psycopg2

        self.psycopg2 = psycopg2
        self.dbname = f"suanpan_bench_{secrets.token_hex(4)}"
        con = psycopg2.connect(PG_ADMIN_URL, connect_timeout=5)
        con.autocommit = True
        try:
            with con.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{self.dbname}"')
                cur.execute("SHOW server_version")
                self.version = cur.fetchone()[0]
                cur.execute("SHOW synchronous_commit")
                self.sync_commit = cur.fetchone()[0]
        finally:
            con.close()
        self.created = True
        self.url = f"{PG_BASE_URL}/{self.dbname}"

    def count(self, table: str) -> int:
        con = self.psycopg2.connect(self.url, connect_timeout=5)
        try:
            with con.cursor() as cur:
                cur.execute(f'SELECT COUNT(*) FROM "{table}"')
                return cur.fetchone()[0]
        finally:
            con.close()

    def describe(self) -> str:
        return (
            f"PostgreSQL {self.version} (synchronous_commit={self.sync_commit}), db {self.dbname}"
        )

    def teardown(self) -> None:
        if not getattr(self, "created", False):
            return
        con = self.psycopg2.connect(PG_ADMIN_URL, connect_timeout=5)
        con.autocommit = True
        try:
            with con.cursor() as cur:
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.dbname,),
                )
                cur.execute(f'DROP DATABASE IF EXISTS "{self.dbname}"')
        finally:
            con.close()
        self.created = False


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(
    method: str, url: str, body: Any = None, token: str = "", timeout: float = 30
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


def server_env(backend: Backend, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "TEST_DATABASE_URL"):
        env.pop(name, None)
    env.update(
        {
            "DATABASE_URL": backend.url,
            "SUANPAN_ENV": "development",
            "SUANPAN_INSTANCE_PATH": str(tmp / "instance"),
            "JWT_ACCESS_MINUTES": "120",
            "FLASK_APP": "app",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def migrate(env: dict[str, str]) -> None:
    proc = subprocess.run(
        [str(VENV_BIN / "flask"), "db", "upgrade"],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{proc.stdout}\n{proc.stderr}")


def start_gunicorn(env: dict[str, str], port: int, workers: int, tmp: Path) -> subprocess.Popen:
    log_file = open(tmp / "gunicorn.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=APP_DIR,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {(tmp / 'gunicorn.log').read_text()[-3000:]}")
        try:
            status, _ = http("GET", f"{base}/health", timeout=2)
            if status == 200:
                return proc
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.2)
    stop_gunicorn(proc)
    raise RuntimeError("gunicorn did not answer /health within 60 s")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # the arbiter stops its workers
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# --------------------------------------------------------------------------- one backend


def bench_backend(backend: Backend, args: argparse.Namespace, wrk: str) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"suanpan-bench-{backend.name}-"))
    proc = None
    try:
        backend.setup(tmp)
        env = server_env(backend, tmp)
        log(f"{backend.name}: migrating {backend.url}")
        migrate(env)
        port = free_port()
        log(f"{backend.name}: gunicorn --workers {args.workers} on 127.0.0.1:{port}")
        proc = start_gunicorn(env, port, args.workers, tmp)
        base = f"http://127.0.0.1:{port}/api/v1"

        status, reg = http(
            "POST",
            f"{base}/auth/register",
            {"username": f"bench{secrets.token_hex(3)}", "password": secrets.token_urlsafe(16)},
        )
        if status != 201:
            raise RuntimeError(f"register: {status} {reg}")
        token = reg["access_token"]
        status, biz = http(
            "POST",
            f"{base}/businesses",
            {"name": "Bench", "uscc": "91110000600037341L", "taxpayer_type": "small_scale"},
            token,
        )
        if status != 201:
            raise RuntimeError(f"create business: {status} {biz}")
        ping_url = f"{base}/ping"
        quick_url = f"{base}/businesses/{biz['id']}/entries/quick"

        # One request by hand first, so a broken setup fails loudly rather than as 16x errors.
        status, first = http("POST", quick_url, QUICK_BODY, token)
        if status != 201:
            raise RuntimeError(f"quick record: {status} {first}")

        common = dict(connections=args.connections, threads=args.threads, workdir=tmp)
        if args.warmup > 0:
            log(f"{backend.name}: warm-up {args.warmup}s per endpoint")
            run_wrk(wrk, ping_url, mode="ping", seconds=args.warmup, tag="warm-ping", **common)
            run_wrk(
                wrk,
                quick_url,
                mode="quick",
                seconds=args.warmup,
                token=token,
                tag="warm-quick",
                **common,
            )

        log(f"{backend.name}: measuring GET /ping for {args.seconds}s")
        ping = run_wrk(wrk, ping_url, mode="ping", seconds=args.seconds, tag="ping", **common)
        time.sleep(1)
        entries_before = backend.count("entry")
        keys_before = backend.count("idempotency_record")
        log(f"{backend.name}: measuring POST quick for {args.seconds}s")
        quick = run_wrk(
            wrk, quick_url, mode="quick", seconds=args.seconds, token=token, tag="quick", **common
        )
        # Let the requests wrk abandoned at its deadline finish on the server before counting.
        time.sleep(2)
        entries_after = backend.count("entry")
        keys_after = backend.count("idempotency_record")

        db_new = entries_after - entries_before
        in_flight = quick["sent"] - quick["requests"]  # cut off by wrk's deadline
        checks = {
            "quick_non_2xx": quick["non_2xx"],
            "quick_socket_errors": quick["socket_errors"],
            "ping_non_2xx": ping["non_2xx"],
            "ping_socket_errors": ping["socket_errors"],
            "quick_201": quick["got201"],
            "db_new_entries": db_new,
            "db_new_idempotency_records": keys_after - keys_before,
            "cut_off_in_flight": in_flight,
            # Every 201 wrk saw is in the database; beyond those, only requests wrk abandoned
            # in flight at its deadline may have been committed (the server finished them).
            "db_matches_wrk": quick["got201"] <= db_new <= quick["got201"] + max(in_flight, 0),
            "one_key_per_entry": db_new == keys_after - keys_before,
        }
        checks["ok"] = (
            checks["quick_non_2xx"] == 0
            and checks["ping_non_2xx"] == 0
            and checks["quick_socket_errors"] == 0
            and checks["ping_socket_errors"] == 0
            and quick["got201"] == quick["requests"]
            and checks["db_matches_wrk"]
            and checks["one_key_per_entry"]
        )
        return {
            "backend": backend.name,
            "database": backend.describe(),
            "ping": ping,
            "quick": quick,
            "checks": checks,
            "server_log_tail": (tmp / "gunicorn.log").read_text()[-2000:],
        }
    finally:
        if proc is not None:
            stop_gunicorn(proc)
        try:
            backend.teardown()
        finally:
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                log(f"kept {tmp}")


# --------------------------------------------------------------------------- profile

# (file suffix, function name, label): inclusive time of each stage of a quick-record request.
# Stages overlap where indented; "~" is a C function.
STAGES = [
    ("flask/app.py", "wsgi_app", "whole request in Flask (test client, no HTTP)"),
    # Commits before the single-decode check (flask-jwt-extended, two queries) ...
    ("flask_jwt_extended/view_decorators.py", "verify_jwt_in_request", "JWT verify"),
    ("app/services/auth.py", "session_active", "  session-revoked check (1 query)"),
    ("app/services/businesses.py", "require_member", "membership check (1 query)"),
    # ... and after it (one PyJWT decode; session and membership in one query).
    ("app/api/access_token.py", "verify", "JWT verify (one decode)"),
    ("app/services/auth.py", "authorize", "session not revoked + membership (1 query)"),
    ("app/api/routing.py", "parse_body", "body: json.loads + pydantic"),
    ("app/api/idempotency.py", "_fingerprint", "idempotency fingerprint (json+sha256)"),
    ("app/api/idempotency.py", "_find", "idempotency lookup (1 query, no lock)"),
    ("app/services/quick.py", "quick_record", "quick_record service"),
    ("app/services/posting.py", "post_entry", "  post_entry"),
    (
        "app/services/posting.py",
        "validate",
        "    validate: accounts, parents, closed month (no lock)",
    ),
    ("app/services/posting.py", "_write_rows", "    lock, number, insert entry + lines, re-check"),
    ("app/services/posting.py", "_emit_posted", "    ledger event: chain leaf (+ tax check)"),
    ("app/services/entries.py", "entry_detail", "response: entry_detail (no query)"),
    ("flask/json/__init__.py", "jsonify", "jsonify response"),
    ("app/api/idempotency.py", "seal_body", "idempotency: AES-GCM seal of the response"),
    ("peewee.py", "Database.commit", "COMMIT"),
]


class _TimedCursor:
    """DB-API cursor proxy that records time per statement kind (bench instrumentation only)."""

    def __init__(self, cur: Any, sink: dict[str, list[float]]) -> None:
        self._cur, self._sink = cur, sink

    def execute(self, sql: str, params: Any = ()) -> Any:
        t = time.perf_counter()
        try:
            return self._cur.execute(sql, params)
        finally:
            key = _statement_key(sql)
            slot = self._sink.setdefault(key, [0, 0.0])
            slot[0] += 1
            slot[1] += time.perf_counter() - t

    def __iter__(self) -> Any:
        return iter(self._cur)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


def _statement_key(sql: str) -> str:
    import re

    words = sql.split()
    verb = words[0].upper() if words else "?"
    if verb in ("SELECT", "DELETE", "UPDATE"):
        m = re.search(r'FROM\s+"?(\w+)"?', sql, re.I) if verb != "UPDATE" else None
        table = m.group(1) if m else (words[1].strip('"') if len(words) > 1 else "?")
        agg = " MAX" if "MAX(" in sql.upper() else (" SUM" if "SUM(" in sql.upper() else "")
        return f"{verb}{agg} {table}"
    if verb == "INSERT":
        return f"INSERT {words[2].strip(chr(34))}" if len(words) > 2 else verb
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return verb
    return " ".join(words[:2]).upper()


def profile_child(backend_name: str, n: int) -> dict[str, Any]:
    """In-process: Flask test client, N quick records per pass (timed, SQL-timed, cProfiled)."""
    import cProfile
    import pstats
    import uuid

    backend: Backend = SqliteBackend() if backend_name == "sqlite" else PostgresBackend()
    tmp = Path(tempfile.mkdtemp(prefix=f"suanpan-prof-{backend_name}-"))
    try:
        backend.setup(tmp)
        os.environ.update(server_env(backend, tmp))
        sys.path.insert(0, str(APP_DIR))
        import logging

        logging.disable(logging.WARNING)
        from app import create_app
        from app.db import db
        from app.migrate import upgrade

        app = create_app(check_schema=False)
        with db.connection_context():
            upgrade()
        client = app.test_client()
        reg = client.post(
            "/api/v1/auth/register", json={"username": "bench", "password": "bench-pw-12345"}
        ).get_json()
        headers = {"Authorization": f"Bearer {reg['access_token']}"}
        biz = client.post(
            "/api/v1/businesses",
            json={"name": "Bench", "uscc": "91110000600037341L", "taxpayer_type": "small_scale"},
            headers=headers,
        ).get_json()
        url = f"/api/v1/businesses/{biz['id']}/entries/quick"

        def go(count: int) -> None:
            for _ in range(count):
                r = client.post(
                    url, json=QUICK_BODY, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
                )
                if r.status_code != 201:
                    raise RuntimeError(f"quick record: {r.status_code} {r.get_data(as_text=True)}")

        ping_n = n
        go(min(200, n))
        t = time.perf_counter()
        for _ in range(ping_n):
            client.get("/api/v1/ping")
        ping_ms = (time.perf_counter() - t) / ping_n * 1000
        t = time.perf_counter()
        go(n)
        plain_ms = (time.perf_counter() - t) / n * 1000

        # SQL pass: time each statement at the driver (network/disk/engine, not peewee).
        sink: dict[str, list[float]] = {}
        raw_db = db.obj
        original = raw_db.cursor
        raw_db.cursor = lambda *a, **k: _TimedCursor(original(*a, **k), sink)  # type: ignore
        try:
            t = time.perf_counter()
            go(n)
            sql_pass_ms = (time.perf_counter() - t) / n * 1000
        finally:
            del raw_db.cursor
        sql = sorted(
            (
                {"statement": k, "per_request": c / n, "ms_per_request": s / n * 1000}
                for k, (c, s) in sink.items()
            ),
            key=lambda x: -x["ms_per_request"],
        )

        prof = cProfile.Profile()
        prof.enable()
        go(n)
        prof.disable()
        stats = pstats.Stats(prof)
        raw = stats.stats  # type: ignore[attr-defined]
        total_tt = sum(v[2] for v in raw.values())

        import peewee

        def find(suffix: str, name: str) -> tuple[int, float]:
            line = None
            if "." in name:  # Class.method in peewee.py: match its line, names repeat there
                cls_name, name = name.split(".")
                func = getattr(getattr(peewee, cls_name), name)
                line = getattr(func, "__func__", func).__code__.co_firstlineno
            calls, ct = 0, 0.0
            for (file, lineno, fn), (_cc, nc, _tt, cum, _callers) in raw.items():
                if line is not None and lineno != line:
                    continue
                if fn == name and file.replace("\\", "/").endswith(suffix):
                    calls += nc
                    ct += cum
            return calls, ct

        whole = find("flask/app.py", "wsgi_app")[1] or total_tt
        stages = []
        for suffix, name, label in STAGES:
            calls, ct = find(suffix, name)
            stages.append(
                {
                    "stage": label,
                    "calls_per_request": calls / n,
                    "ms_per_request": ct / n * 1000,
                    "share": ct / whole if whole else 0.0,
                }
            )
        # peewee: SQL string building (Database.execute minus execute_sql) vs. the driver.
        ex_ct = find("peewee.py", "Database.execute")[1]
        exsql = find("peewee.py", "Database.execute_sql")[1]
        builtin_exec = sum(
            v[3] for (f, _l, fn), v in raw.items() if f == "~" and "execute" in fn and "ursor" in fn
        )
        extra = [
            ("peewee: building SQL strings (execute - execute_sql)", ex_ct - exsql),
            ("driver cursor.execute (engine + I/O)", builtin_exec),
        ]
        for label, ct in extra:
            stages.append(
                {
                    "stage": label,
                    "calls_per_request": None,
                    "ms_per_request": ct / n * 1000,
                    "share": ct / whole if whole else 0.0,
                }
            )

        def top(key: int) -> list[dict[str, Any]]:
            rows = sorted(raw.items(), key=lambda kv: -kv[1][key])[:15]
            return [
                {
                    "function": f"{Path(f).name}:{line}({fn})" if f != "~" else fn,
                    "calls_per_request": v[1] / n,
                    "tottime_ms": v[2] / n * 1000,
                    "cumtime_ms": v[3] / n * 1000,
                    "share_tottime": v[2] / total_tt,
                }
                for (f, line, fn), v in rows
            ]

        return {
            "backend": backend_name,
            "database": backend.describe(),
            "requests_per_pass": n,
            "plain_ms_per_request": plain_ms,
            "ping_ms_per_request": ping_ms,
            "sql_pass_ms_per_request": sql_pass_ms,
            "profiled_ms_per_request": whole / n * 1000,
            "statements_per_request": sum(c for c, _ in sink.values()) / n,
            "sql": sql,
            "stages": stages,
            "top_tottime": top(2),
            "top_cumtime_app": [
                r for r in top(3) if "/app/" in r["function"] or r["function"].startswith("app")
            ],
        }
    finally:
        try:
            from app.db import db as _db

            if not _db.is_closed():
                _db.close()
            _db.obj.close_all()
        except Exception:  # noqa: BLE001 - best effort before dropping the database
            pass
        backend.teardown()
        shutil.rmtree(tmp, ignore_errors=True)


def run_profile(backend_name: str, n: int) -> dict[str, Any]:
    """Each backend in its own interpreter: config.py reads the environment at import."""
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--_profile-child",
            backend_name,
            "--profile",
            str(n),
            "--app-dir",
            str(APP_DIR),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"profile ({backend_name}) failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout)


def print_profile(p: dict[str, Any]) -> None:
    print(
        f"\n### profile: {p['backend']}, {p['requests_per_pass']} quick records in-process "
        f"(Flask test client, one thread)\n"
        f"plain {p['plain_ms_per_request']:.2f} ms/request (GET /ping {p['ping_ms_per_request']:.3f}"
        f" ms); {p['statements_per_request']:.1f} SQL statements/request; under cProfile "
        f"{p['profiled_ms_per_request']:.2f} ms/request (shares below are of that)\n"
    )
    print("| stage (inclusive; indented = part of the line above) | calls/req | ms/req | share |")
    print("|---|---:|---:|---:|")
    for s in p["stages"]:
        if s["calls_per_request"] == 0:  # a stage of another version of the app
            continue
        calls = "" if s["calls_per_request"] is None else f"{s['calls_per_request']:.0f}"
        print(f"| {s['stage']} | {calls} | {s['ms_per_request']:.2f} | {s['share']:.0%} |")
    print("\nSQL at the driver (no profiler), per request:\n")
    print("| statement | count/req | ms/req |")
    print("|---|---:|---:|")
    for s in p["sql"]:
        print(f"| {s['statement']} | {s['per_request']:.1f} | {s['ms_per_request']:.3f} |")
    print("\ntop functions by own time (cProfile):\n")
    print("| function | calls/req | own ms/req | cum ms/req | share of own |")
    print("|---|---:|---:|---:|---:|")
    for r in p["top_tottime"][:10]:
        print(
            f"| {r['function']} | {r['calls_per_request']:.0f} | {r['tottime_ms']:.3f} | "
            f"{r['cumtime_ms']:.3f} | {r['share_tottime']:.1%} |"
        )


# --------------------------------------------------------------------------- report


def describe_source(ref: str | None) -> str:
    def git(*a: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *a], capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()

    if ref:
        return f"commit {git('rev-parse', '--short', ref)} ({ref}, exported)"
    dirty = git("status", "--porcelain", "--", "app", "config.py", "wsgi.py")
    return f"working tree at {git('rev-parse', '--short', 'HEAD')}" + (
        " with uncommitted changes in app/" if dirty else ""
    )


def machine() -> dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def table(results: list[dict[str, Any]]) -> str:
    head = "| backend | endpoint | requests/s | p50 ms | p99 ms | errors | quick/empty |"
    rows = [head, "|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        ratio = r["quick"]["rps"] / r["ping"]["rps"] if r["ping"]["rps"] else 0.0
        for label, key, rat in (
            ("GET /ping (empty)", "ping", ""),
            ("POST entries/quick", "quick", f"{ratio:.2f}"),
        ):
            m = r[key]
            errors = m["non_2xx"] + m["socket_errors"]
            rows.append(
                f"| {r['backend']} | {label} | {m['rps']:.0f} | {ms(m['p50_us'])} | "
                f"{ms(m['p99_us'])} | {errors} | {rat} |"
            )
    return "\n".join(rows)


def goals(r: dict[str, Any]) -> dict[str, bool]:
    q, p = r["quick"], r["ping"]
    return {
        "rps>=1000": q["rps"] >= GOAL_RPS,
        "p99<50ms": q["p99_us"] / 1000 < GOAL_P99_MS,
        "ratio>=1/3": p["rps"] > 0 and q["rps"] / p["rps"] >= GOAL_RATIO,
        "verified": bool(r["checks"]["ok"]),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    ap.add_argument("--seconds", type=float, default=10, help="measured seconds per endpoint")
    ap.add_argument("--warmup", type=float, default=2, help="warm-up seconds per endpoint")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    ap.add_argument(
        "--json", nargs="?", const="-", metavar="PATH", help="dump results as JSON (to stdout: -)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (db, gunicorn log)")
    ap.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also profile N quick records in-process per backend (cProfile, Flask test client)",
    )
    ap.add_argument("--no-http", action="store_true", help="skip the wrk benchmark (profile only)")
    ap.add_argument(
        "--ref",
        help="measure this git commit of the repo (exported with git archive to a temp dir) "
        "instead of the working tree, which others may be editing",
    )
    ap.add_argument("--app-dir", help=argparse.SUPPRESS)
    ap.add_argument("--_profile-child", dest="profile_child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    global APP_DIR
    if args.app_dir:
        APP_DIR = Path(args.app_dir)
    if args.profile_child:
        print(json.dumps(profile_child(args.profile_child, max(1, min(args.profile, 100_000)))))
        return 0
    if not 0 <= args.profile <= 100_000:
        ap.error("--profile must be 0..100000")
    if not 1 <= args.seconds <= 600 or not 0 <= args.warmup <= 60:
        ap.error("--seconds must be 1..600 and --warmup 0..60")
    if not 1 <= args.threads <= args.connections <= 1024:
        ap.error("need 1 <= threads <= connections <= 1024")

    wrk = ensure_wrk() if not args.no_http else ""
    export_dir = None
    if args.ref:
        export_dir = Path(tempfile.mkdtemp(prefix="suanpan-bench-src-"))
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", args.ref],
            capture_output=True,
            timeout=120,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(export_dir)], input=archive, check=True, timeout=120)
        APP_DIR = export_dir
    source = describe_source(args.ref)
    log(f"measuring {source}")
    backends: list[Backend] = []
    if args.backend in ("sqlite", "both"):
        backends.append(SqliteBackend())
    if args.backend in ("postgres", "both"):
        backends.append(PostgresBackend())

    started = dt.datetime.now(dt.UTC)
    try:
        results = [] if args.no_http else [bench_backend(b, args, wrk) for b in backends]
        profiles = []
        for b in backends if args.profile else []:
            log(f"{b.name}: profiling {args.profile} quick records in-process")
            profiles.append(run_profile(b.name, args.profile))
    finally:
        if export_dir is not None:
            shutil.rmtree(export_dir, ignore_errors=True)

    # With --json - the JSON alone goes to stdout and the human report to stderr.
    human = sys.stderr if args.json == "-" else sys.stdout
    with contextlib.redirect_stdout(human):
        if results:
            print()
            print(table(results))
            print()
        for r in results:
            g = goals(r)
            c = r["checks"]
            print(
                f"{r['backend']}: "
                + ", ".join(
                    f"{k} {'MET' if v else 'NOT met'}" for k, v in g.items() if k != "verified"
                )
            )
            print(
                f"  check: 201s seen by wrk {c['quick_201']}, new entries in db {c['db_new_entries']}, "
                f"new idempotency records {c['db_new_idempotency_records']}, cut off in flight "
                f"{c['cut_off_in_flight']}, non-2xx {c['quick_non_2xx']}+{c['ping_non_2xx']}, "
                f"socket errors {c['quick_socket_errors']}+{c['ping_socket_errors']} -> "
                f"{'OK' if c['ok'] else 'FAILED'}"
            )
            print(f"  {r['database']}")
        if results:
            print(
                f"\n{len(results)} backend(s); {wrk_version(wrk)}; wrk -t{args.threads} "
                f"-c{args.connections} -d{round(args.seconds)}s; gunicorn --workers {args.workers}; "
                f"started {started:%Y-%m-%d %H:%M} UTC; app: {source}"
            )
        for p in profiles:
            print_profile(p)

    if args.json:
        doc = {
            "started": started.isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "machine": machine(),
            "app": source,
            "wrk": wrk_version(wrk) if wrk else None,
            "options": vars(args),
            "goals": {"rps": GOAL_RPS, "p99_ms": GOAL_P99_MS, "ratio": GOAL_RATIO},
            "results": [{**r, "goals_met": goals(r)} for r in results],
            "profiles": profiles,
        }
        text = json.dumps(doc, indent=2, ensure_ascii=False)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
            log(f"wrote {args.json}")
    return 0 if all(r["checks"]["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
