"""Verify on chain in the browser: the entry page checks its receipt (RFC 9162 inclusion proof,
Ed25519 checkpoint signature) with WebCrypto; /verify does the same with no login, from a
receipt file or the receipt QR code; altered receipts fail and say what failed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Api, login, shot


def setup_entry(api: Api, unique: Any) -> tuple[str, Api, int, dict[str, Any]]:
    username = unique("laoban")
    owner = api.register(username, "赵老板")
    bid = owner.business("赵记杂货")
    body = {
        "kind": "expense",
        "amount": "35.50",
        "category": "office",
        "paid_with": "cash",
        "memo": "打印纸",
    }
    entry = owner.call("POST", f"/api/v1/businesses/{bid}/entries/quick", body)
    return username, owner, bid, entry


def test_entry_detail_verifies_its_receipt_and_catches_a_tampered_one(phone, api, unique) -> None:
    username, owner, bid, entry = setup_entry(api, unique)
    page = phone()
    login(page, username)
    expect(page.get_by_test_id("dashboard-ready")).to_be_visible()
    page.goto(f"/entries/{entry['id']}")
    ok = page.get_by_test_id("chain-ok")
    expect(ok).to_contain_text(re.compile(r"已上链 ✓ 区块 \d+"))
    shot(page, "13-entry-on-chain")

    page.get_by_role("link", name="查看区块").or_(page.get_by_text("查看区块")).first.tap()
    expect(page.get_by_test_id("block").first).to_contain_text("区块 0")
    shot(page, "14-chain-blocks")

    # The server (or anyone on the way) changes the amount in the receipt: the phone notices.
    def tamper(route: Any) -> None:
        response = route.fetch()
        receipt = response.json()
        receipt["leaf"] = receipt["leaf"].replace("35.50", "3.55")
        route.fulfill(response=response, json=receipt)

    page.route("**/receipt", tamper)
    page.goto(f"/entries/{entry['id']}")
    failed = page.get_by_test_id("chain-failed")
    expect(failed).to_contain_text("验证失败")
    expect(failed).to_contain_text("被改动过")
    shot(page, "15-entry-tampered")


def test_public_verify_page_checks_a_receipt_file_and_its_qr_code(
    phone, api, unique, tmp_path: Path
) -> None:
    _, owner, bid, entry = setup_entry(api, unique)
    receipt = owner.call("GET", f"/api/v1/businesses/{bid}/entries/{entry['id']}/receipt")
    good = tmp_path / "receipt.json"
    good.write_text(json.dumps(receipt, ensure_ascii=False), encoding="utf-8")
    bad = tmp_path / "tampered.json"
    bad.write_text(
        json.dumps({**receipt, "leaf": receipt["leaf"].replace("打印纸", "打印机")}),
        encoding="utf-8",
    )
    qr = tmp_path / "receipt.png"
    qr.write_bytes(
        owner.call(
            "GET", f"/api/v1/businesses/{bid}/entries/{entry['id']}/receipt?format=png", raw=True
        )
    )

    page = phone()  # not logged in
    page.goto("/verify")
    expect(page.get_by_text("验证回执").first).to_be_visible()
    page.get_by_test_id("verify-file").set_input_files(str(good))
    expect(page.get_by_test_id("verify-ok")).to_have_text("验证通过 ✓")
    expect(page.get_by_test_id("verify-result")).to_contain_text("用服务器公布的公钥验证")
    shot(page, "16-verify-ok")

    page.get_by_test_id("verify-file").set_input_files(str(bad))
    expect(page.get_by_test_id("verify-failed")).to_contain_text("记录内容与回执不符")
    shot(page, "17-verify-tampered")

    page.get_by_test_id("verify-file").set_input_files(str(qr))
    expect(page.get_by_test_id("verify-ok")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/verify$"))  # no login needed
