"""The whole foundation through HTTP only, against gunicorn, as a phone would use it."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.live_server import gunicorn


class Http:
    def __init__(self, base: str) -> None:
        self.base = base
        self.token: str | None = None

    def call(
        self, method: str, path: str, body: object = None, key: bool = True
    ) -> tuple[int, dict | bytes, dict]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if method == "POST" and key:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                raw, status, hdrs = resp.read(), resp.status, dict(resp.headers)
        except urllib.error.HTTPError as err:
            raw, status, hdrs = err.read(), err.code, dict(err.headers)
        if hdrs.get("Content-Type", "").startswith("application/json"):
            return status, json.loads(raw), hdrs
        return status, raw, hdrs


@pytest.fixture
def server(app, database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    with gunicorn(database_url, tmp_path) as base:
        yield base


def test_register_to_trial_balance_over_http(server: str) -> None:
    owner = Http(server)
    status, body, _ = owner.call(
        "POST",
        "/api/v1/auth/register",
        {"username": "laoban", "password": "kafei-2026", "phone": "13912345678"},
    )
    assert status == 201
    status, body, _ = owner.call(
        "POST", "/api/v1/auth/login", {"phone": "13912345678", "password": "kafei-2026"}
    )
    assert status == 200
    owner.token = body["access_token"]

    status, biz, _ = owner.call(
        "POST",
        "/api/v1/businesses",
        {"name": "街角咖啡", "uscc": "91310115MA1K3BTP2B", "taxpayer_type": "small_scale"},
    )
    assert status == 201
    bid = biz["id"]

    # Invite a bookkeeper by QR code: the other phone scans the PNG and opens the link.
    status, invite, _ = owner.call(
        "POST", f"/api/v1/businesses/{bid}/invites", {"role": "bookkeeper"}
    )
    assert status == 201
    status, png, hdrs = owner.call("GET", invite["qr_png_url"])
    assert status == 200 and hdrs["Content-Type"] == "image/png"
    link = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))[0].text
    token = link.rsplit("/invite/", 1)[1]
    bookkeeper = Http(server)
    status, body, _ = bookkeeper.call(
        "POST", "/api/v1/auth/register", {"username": "kuaiji", "password": "zhangben-1"}
    )
    bookkeeper.token = body["access_token"]
    status, joined, _ = bookkeeper.call("POST", f"/api/v1/invites/{token}/accept", {})
    assert status == 201 and joined["role"] == "bookkeeper"

    # The owner quick-records an expense; the phone retries it with the same key.
    quick = {
        "kind": "expense",
        "amount": "35.50",
        "category": "meals",
        "paid_with": "wechat",
        "date": "2026-03-05",
        "memo": "请客户喝咖啡",
    }
    req_key = {"Idempotency-Key": "retry-me"}
    for _ in range(2):
        req = urllib.request.Request(
            server + f"/api/v1/businesses/{bid}/entries/quick",
            data=json.dumps(quick).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {owner.token}",
                **req_key,
            },
        )
        with urllib.request.urlopen(req, timeout=20) as resp:
            assert resp.status == 201

    # The bookkeeper posts a manual entry and reverses it.
    lines = [{"account": "1002", "debit": "5000.00"}, {"account": "3001", "credit": "5000.00"}]
    status, entry, _ = bookkeeper.call(
        "POST",
        f"/api/v1/businesses/{bid}/entries",
        {"date": "2026-03-01", "memo": "投资款", "lines": lines},
    )
    assert status == 201 and entry["status"] == "posted"
    status, rev, _ = bookkeeper.call(
        "POST", f"/api/v1/businesses/{bid}/entries/{entry['id']}/reverse", {"date": "2026-03-02"}
    )
    assert status == 201 and rev["reverses"] == entry["id"]

    status, tb, _ = bookkeeper.call(
        "GET", f"/api/v1/businesses/{bid}/reports/trial-balance?from=2026-03-01&to=2026-03-31"
    )
    assert (
        status == 200 and tb["balanced"] and tb["total_debit"] == tb["total_credit"] == "10035.50"
    )
    status, led, _ = owner.call(
        "GET", f"/api/v1/businesses/{bid}/accounts/101201/ledger?from=2026-03-01&to=2026-03-31"
    )
    assert (
        status == 200 and led["closing_balance"] == "-35.50" and len(led["rows"]) == 1
    )  # posted once

    # Errors over the wire are JSON too, never HTML.
    status, err, _ = owner.call("GET", "/api/v1/no-such-thing")
    assert status == 404 and err["error"]["code"] == "not_found"
    status, err, _ = owner.call("POST", f"/api/v1/businesses/{bid}/entries", {"lines": "nope"})
    assert status == 422 and "error" in err
