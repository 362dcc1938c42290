"""An owner keeps the books on a phone: log in, record, dashboard, entries, live updates,
offline records, English, business switching, members. Real app, real Chromium."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Api, login, shot


def owner_with_business(api: Api, unique: Any, name: str = "街角咖啡") -> tuple[str, Api, int]:
    username = unique("laoban")
    owner = api.register(username, "王老板")
    return username, owner, owner.business(name)


def type_amount(page: Any, text: str) -> None:
    for key in text:
        page.locator(f'[data-testid="keypad"] [data-key="{key}"]').tap()


def record(page: Any, amount: str, category: str, memo: str, kind: str = "expense") -> None:
    page.get_by_test_id("tab-record").tap()
    if kind == "income":
        page.get_by_role("tab", name=re.compile("收入|Income")).tap()
    type_amount(page, amount)
    page.get_by_test_id(f"cat-{category}").tap()
    page.get_by_test_id("record-memo").locator("input").fill(memo)
    page.get_by_test_id("keypad-action").tap()


def test_login_record_see_it_on_dashboard_and_in_the_list(phone, api, unique) -> None:
    username, owner, bid = owner_with_business(api, unique)
    page = phone()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_text("欢迎使用算盘记账")).to_be_visible()
    shot(page, "01-login")

    login(page, username)
    expect(page.get_by_test_id("dashboard-ready")).to_be_visible()
    expect(page.get_by_test_id("navbar")).to_contain_text("街角咖啡")
    expect(page.get_by_test_id("money-total")).to_have_text("¥0.00")
    expect(page.get_by_text("还没有记录")).to_be_visible()
    tabs = page.get_by_test_id("tabbar")
    for label in ("首页", "记账", "审批", "我的"):
        expect(tabs).to_contain_text(label)
    shot(page, "02-dashboard-empty")

    page.get_by_test_id("tab-record").tap()
    type_amount(page, "1234.5")
    expect(page.get_by_test_id("amount-display")).to_have_text("¥1234.5")
    page.get_by_test_id("cat-meals").tap()
    page.get_by_test_id("record-memo").locator("input").fill("请客户吃饭")
    shot(page, "03-record")
    page.get_by_test_id("keypad-action").tap()

    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.get_by_test_id("month-expense")).to_have_text("¥1,234.50")
    expect(page.get_by_test_id("money-wechat")).to_have_text("-¥1,234.50")
    recent = page.get_by_test_id("entry-cell").first
    expect(recent).to_contain_text("请客户吃饭")
    expect(recent).to_contain_text("-¥1,234.50")
    expect(page.locator("canvas").first).to_be_visible()  # the charts rendered
    shot(page, "04-dashboard")

    page.get_by_test_id("see-all").tap()
    expect(page.get_by_test_id("entry-cell")).to_have_count(1)
    expect(page.get_by_test_id("entry-cell").first).to_contain_text("请客户吃饭")
    shot(page, "05-entries")
    page.get_by_test_id("entries-search").locator("input").fill("没有这个")
    page.get_by_test_id("entries-search").locator("input").press("Enter")
    expect(page.get_by_test_id("entries-empty")).to_be_visible()
    page.get_by_test_id("entries-search").locator("input").fill("客户")
    page.get_by_test_id("entries-search").locator("input").press("Enter")
    expect(page.get_by_test_id("entry-cell")).to_have_count(1)

    [entry] = owner.entries(bid)
    assert (entry["total"], entry["memo"], entry["paid_with"]) == (
        "1234.50",
        "请客户吃饭",
        "wechat",
    )

    page.get_by_test_id("entry-cell").first.tap()
    expect(page.get_by_test_id("entry-line")).to_have_count(2)
    expect(page.get_by_test_id("entry-total")).to_have_text("¥1,234.50")

    page.goto("/approvals")
    expect(page.get_by_test_id("approvals-empty")).to_contain_text("暂无待审批")
    shot(page, "06-approvals")


def test_a_record_from_another_session_appears_live(phone, api, unique) -> None:
    username, owner, bid = owner_with_business(api, unique, "小林面馆")
    clerk_name = unique("kuaiji")
    clerk = api.register(clerk_name, "李会计")
    owner.add_member(bid, "bookkeeper", clerk)

    dashboard = phone()
    login(dashboard, username)
    expect(dashboard.get_by_test_id("live-indicator")).to_be_visible()
    dashboard.evaluate("window.__noReload = true")

    other = phone()
    login(other, clerk_name)
    record(other, "88", "sales", "午市营业额", kind="income")
    expect(other).to_have_url(re.compile(r"/home$"))

    # Within a few seconds, without reloading, the owner's dashboard shows it.
    expect(dashboard.get_by_test_id("month-income")).to_have_text("¥88.00", timeout=8000)
    expect(dashboard.get_by_test_id("entry-cell").first).to_contain_text("午市营业额")
    assert dashboard.evaluate("window.__noReload") is True
    shot(dashboard, "07-dashboard-live")


def test_offline_record_is_kept_then_sent_exactly_once(phone, api, unique) -> None:
    username, owner, bid = owner_with_business(api, unique, "街口水果店")
    page = phone()
    login(page, username)
    expect(page.get_by_test_id("dashboard-ready")).to_be_visible()
    page.get_by_test_id("see-all").tap()  # load the pages' code while online
    expect(page.get_by_test_id("entries-empty")).to_be_visible()
    page.go_back()
    page.get_by_test_id("tab-record").tap()
    expect(page.get_by_test_id("cat-purchase")).to_be_visible()

    page.context.set_offline(True)
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    type_amount(page, "66")
    page.get_by_test_id("cat-purchase").tap()
    page.get_by_test_id("record-memo").locator("input").fill("进一箱苹果")
    page.get_by_test_id("keypad-action").tap()
    expect(page.get_by_text(re.compile("没有网络"))).to_be_visible()
    page.evaluate(
        "history.pushState({}, '', '/entries'); dispatchEvent(new PopStateEvent('popstate'))"
    )
    pending = page.get_by_test_id("pending-list")
    expect(pending).to_contain_text("待同步")
    expect(pending).to_contain_text("进一箱苹果")
    shot(page, "08-offline-pending")
    assert owner.entries(bid) == []

    page.context.set_offline(False)
    expect(page.get_by_test_id("pending-list")).to_have_count(0, timeout=10000)
    expect(page.get_by_test_id("entry-cell").first).to_contain_text("进一箱苹果")
    entries = owner.entries(bid)
    assert [(e["memo"], e["total"]) for e in entries] == [("进一箱苹果", "66.00")]


def test_a_lost_answer_is_retried_with_the_same_key_and_posts_once(phone, api, unique) -> None:
    """The request reaches the server but its answer is lost: the outbox resends the same
    Idempotency-Key, the server replays the first answer, and there is one entry."""
    username, owner, bid = owner_with_business(api, unique, "城南花店")
    page = phone()
    login(page, username)
    expect(page.get_by_test_id("dashboard-ready")).to_be_visible()
    keys: list[str] = []

    def lose_answer(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        route.fetch()  # the server posts it
        route.abort("connectionreset")  # ...and the phone never hears back

    page.route("**/entries/quick", lose_answer)
    record(page, "19.9", "other", "包装纸")
    expect(page.get_by_text(re.compile("没有网络"))).to_be_visible()
    assert len(owner.entries(bid)) == 1
    page.unroute("**/entries/quick")
    page.route(
        "**/entries/quick",
        lambda route: (keys.append(route.request.headers["idempotency-key"]), route.continue_()),
    )
    page.evaluate("dispatchEvent(new Event('online'))")
    expect(page.get_by_text(re.compile("已同步"))).to_be_visible(timeout=10000)
    assert len(keys) == 2 and keys[0] == keys[1]
    assert [e["memo"] for e in owner.entries(bid)] == ["包装纸"]


def test_bookkeeper_switches_between_client_businesses(phone, api, unique) -> None:
    clerk_name = unique("daizhang")
    clerk = api.register(clerk_name, "代账张会计")
    for name in ("甲商店", "乙工作室"):
        _, owner, bid = owner_with_business(api, unique, name)
        owner.add_member(bid, "bookkeeper", clerk)
        owner.call(
            "POST",
            f"/api/v1/businesses/{bid}/entries/quick",
            {
                "kind": "income",
                "amount": "100" if name == "甲商店" else "200",
                "category": "sales",
                "paid_with": "cash",
            },
        )

    page = phone()
    login(page, clerk_name)
    expect(page).to_have_url(re.compile(r"/picker"))
    expect(page.get_by_test_id("business-list")).to_contain_text("甲商店")
    expect(page.get_by_test_id("business-list")).to_contain_text("乙工作室")
    shot(page, "09-picker")
    page.get_by_text("甲商店").tap()
    expect(page.get_by_test_id("navbar")).to_contain_text("甲商店")
    expect(page.get_by_test_id("money-cash")).to_have_text("¥100.00")

    page.get_by_test_id("tab-me").tap()
    page.get_by_test_id("me-business").tap()
    page.get_by_text("乙工作室").tap()
    expect(page.get_by_test_id("navbar")).to_contain_text("乙工作室")
    expect(page.get_by_test_id("money-cash")).to_have_text("¥200.00")
    page.reload()  # remembered on this device
    expect(page.get_by_test_id("navbar")).to_contain_text("乙工作室")


def test_english_switch_and_me_page(phone, api, unique) -> None:
    username, _, _ = owner_with_business(api, unique, "东门烟酒店")
    page = phone()
    login(page, username)
    page.get_by_test_id("tab-me").tap()
    expect(page.get_by_test_id("me-name")).to_have_text("王老板")
    shot(page, "10-me")
    page.get_by_test_id("lang-en").tap()
    tabs = page.get_by_test_id("tabbar")
    for label in ("Home", "Record", "Approvals", "Me"):
        expect(tabs).to_contain_text(label)
    expect(page.get_by_test_id("logout")).to_have_text("Log out")
    page.reload()
    expect(page.get_by_test_id("logout")).to_have_text("Log out")
    page.get_by_test_id("tab-home").tap()
    expect(page.get_by_text("Money on hand")).to_be_visible()
    shot(page, "11-dashboard-en")
    page.get_by_test_id("tab-me").tap()
    page.get_by_test_id("logout").tap()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_text("Welcome to Suanpan")).to_be_visible()


def test_wechat_dev_login_then_create_a_business(phone) -> None:
    page = phone()
    page.goto("/login")
    page.get_by_test_id("login-wechat").tap()
    expect(page.get_by_text("开发环境")).to_be_visible()
    page.get_by_test_id("dev-name").locator("input").fill("xiaomei")
    page.get_by_role("button", name="确定").tap()
    expect(page).to_have_url(re.compile(r"/picker"))
    expect(page.get_by_text("你还没有账套")).to_be_visible()
    shot(page, "12-picker-empty")
    page.get_by_test_id("create-business").tap()
    page.get_by_label("名称").fill("小美美甲")
    page.get_by_label("统一社会信用代码").fill("91310115MA1K3BTP2B")
    page.get_by_role("button", name="保存").tap()
    expect(page.get_by_test_id("navbar")).to_contain_text("小美美甲")
