"""Members: the owner shows an invitation QR code full screen; the other phone opens its link,
logs in and joins; the owner sees them in the list."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import login, shot


def test_owner_invites_a_bookkeeper_by_qr_code(phone, api, unique) -> None:
    username = unique("laoban")
    owner = api.register(username, "钱老板")
    bid = owner.business("钱氏五金")
    page = phone()
    login(page, username)
    expect(page.get_by_test_id("dashboard-ready")).to_be_visible()
    page.get_by_test_id("tab-me").tap()
    page.get_by_test_id("me-members").tap()
    expect(page.get_by_test_id("members-list")).to_contain_text("钱老板")
    page.get_by_test_id("invite").tap()
    page.get_by_text("会计", exact=True).tap()
    qr = page.get_by_test_id("invite-qr")
    expect(qr).to_be_visible()
    img = qr.locator("img")
    expect(img).to_have_js_property("complete", True)
    assert img.evaluate("i => i.naturalWidth") > 100
    shot(page, "18-invite-qr")
    link = qr.locator(".link").inner_text()
    token = link.rsplit("/invite/", 1)[1]

    clerk_name = unique("kuaiji")
    api.register(clerk_name, "孙会计")
    other = phone()
    other.goto(f"/invite/{token}")
    expect(other.get_by_text("钱氏五金").first).to_be_visible()
    other.get_by_test_id("invite-accept").tap()  # not logged in: log in first, then back here
    expect(other).to_have_url(re.compile(r"/login"))
    other.get_by_test_id("login-account").locator("input").fill(clerk_name)
    other.get_by_test_id("login-password").locator("input").fill("mima-2026")
    other.get_by_test_id("login-submit").click()
    expect(other).to_have_url(re.compile(r"/invite/"))
    other.get_by_test_id("invite-accept").tap()
    expect(other.get_by_test_id("navbar")).to_contain_text("钱氏五金")

    members = owner.call("GET", f"/api/v1/businesses/{bid}/members")["items"]
    assert {m["username"]: m["role"] for m in members}[clerk_name] == "bookkeeper"
