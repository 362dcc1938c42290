"""商家转账's confirmation step in the app, against the fake WeChat Pay server (tests/fakes).

A rule contract pays an employee's bill by WeChat transfer; WeChat Pay holds it
(WAIT_USER_CONFIRM) until the payee accepts it in WeChat. The employee sees it under
待确认收款 and taps 确认收款: inside WeChat the app calls wx.requestMerchantTransfer with the
transfer's parameters, then asks our server for the result; in an ordinary browser it says the
transfer can only be accepted in WeChat and calls nothing. The owner sees 等待收款人确认 under
进行中的付款 and can 撤回 a transfer, unless the payee already accepted it.

The WeChat client cannot run here. Where the test needs it, a stand-in for its JS bridge is
injected into the page (`window.wx.requestMerchantTransfer`): it records what the app passed and
answers only when the test, playing WeChat, says so, after having the fake WeChat Pay server
confirm the bill as WeChat would once the payee accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from app.models import Entry, Payment, User
from tests.e2e.conftest import Api, books, free_port, login, phones, run_server, shot
from tests.fakes.wechatpay import FakeWeChatPay

NOTIFY = "/api/v1/payments/wechatpay/notify"

# Pays an approved bill on its due day by WeChat transfer (as in tests/test_payments_wechatpay.py).
DOC = {
    "name": "微信付账单",
    "trigger": {"event": "bill.due"},
    "actions": [
        {
            "type": "pay",
            "payee": {"var": "event.payee"},
            "amount": {"var": "event.amount"},
            "from_account": "101201",
            "to_account": "2202",
            "payee_name": {"var": "event.supplier"},
            "target": "bill",
            "method": "wechatpay",
            "memo": "垫付报销",
        }
    ],
    "limits": {"per_run": "5000.00"},
}

# A stand-in for the WeChat client's JS bridge (the real one exists only inside WeChat): records
# each call's parameters and keeps its callbacks until the test answers with __wechatAnswers.
WECHAT_STAND_IN = """
window.__wxCalls = [];
window.wx = {
  requestMerchantTransfer(options) {
    const { success, fail, complete, ...params } = options;
    window.__wxCalls.push(params);
    window.__wechatAnswers = (accepted) => {
      const res = { errMsg: accepted ? 'requestMerchantTransfer:ok' : 'requestMerchantTransfer:fail cancel' };
      (accepted ? success : fail)?.(res);
      complete?.(res);
    };
  },
};
"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChatPay]:
    server = FakeWeChatPay().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def paying_server(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeWeChatPay
) -> Iterator[tuple[str, Path]]:
    """The app (gunicorn) configured to pay through the fake WeChat Pay server: (URL, its dir)."""
    base_dir = tmp_path_factory.mktemp("e2e-wechatpay")
    port = free_port()
    notify_url = f"http://127.0.0.1:{port}{NOTIFY}"
    with run_server(base_dir, fake.app_config(notify_url), port=port) as base:
        yield base, base_dir


@pytest.fixture
def phone(browser: Any, paying_server: tuple[str, Path]) -> Iterator[Callable[..., Any]]:
    """Pages on the WeChat Pay server (instead of the shared e2e server)."""
    with phones(browser, paying_server[0]) as make:
        yield make


@pytest.fixture
def shop(paying_server: tuple[str, Path], fake: FakeWeChatPay, unique) -> dict[str, Any]:
    """An owner, an employee who signed in with WeChat (has an openid), and a deployed rule that
    pays approved bills by WeChat transfer."""
    base, base_dir = paying_server
    fake.notify_down = False
    api = Api(base)
    owner_name, employee_name = unique("laoban"), unique("xiaofang")
    owner = api.register(owner_name, "吴老板")
    bid = owner.business("吴记小馆")
    employee = api.register(employee_name, "小芳")
    owner.add_member(bid, "employee", employee)
    employee_id = employee.call("GET", "/api/v1/me")["id"]
    openid = unique("o-")
    with books(base_dir):
        User.update(wechat_openid=openid).where(User.id == employee_id).execute()
    contract = owner.call("POST", f"/api/v1/businesses/{bid}/contracts", {"document": DOC})
    owner.call("POST", f"/api/v1/businesses/{bid}/contracts/{contract['id']}/deploy", {})
    return {
        "bid": bid,
        "owner": owner,
        "owner_name": owner_name,
        "employee_name": employee_name,
        "employee_id": employee_id,
        "openid": openid,
        "base_dir": base_dir,
    }


def waiting_transfers(shop: dict[str, Any], *amounts: str) -> list[dict[str, Any]]:
    """Approved bills payable to the employee; the rule pays them by WeChat transfer, which
    then waits for the employee to accept. Returns the payments, in the order of amounts."""
    owner, bid = shop["owner"], shop["bid"]
    bills = []
    for amount in amounts:
        bill = owner.call(
            "POST",
            f"/api/v1/businesses/{bid}/bills",
            {
                "supplier": "小芳",
                "payee": f"user:{shop['employee_id']}",
                "amount": amount,
                "due_date": "2026-01-05",
            },
        )
        owner.call("POST", f"/api/v1/businesses/{bid}/bills/{bill['id']}/approve", {})
        bills.append(bill["id"])
    assert owner.call("POST", f"/api/v1/businesses/{bid}/contracts/process", {})["runs"] == len(
        amounts
    )
    submitted = owner.call("GET", f"/api/v1/businesses/{bid}/payments?status=submitted")["items"]
    by_bill = {p["target"]["id"]: p for p in submitted if p["target"]}
    payments = [by_bill[b] for b in bills]
    assert all(p["provider"] == "wechatpay" and p["waiting_for_payee"] for p in payments)
    return payments


def status_of(shop: dict[str, Any], payment_id: int) -> str:
    with books(shop["base_dir"]):
        return Payment.get_by_id(payment_id).status


def toast(page: Any, text: str) -> Any:
    return page.locator(".van-toast").filter(has_text=text)


def test_employee_accepts_a_transfer_in_wechat(phone, shop, fake: FakeWeChatPay) -> None:
    [p] = waiting_transfers(shop, "66.00")
    out_no = p["out_no"]
    expected = {
        "mchId": fake.mchid,
        "appId": "wx-test-app",
        "package": fake.bills[out_no]["package_info"],
        "openId": shop["openid"],
    }

    # An ordinary browser: no WeChat, so the app explains and calls nothing.
    page = phone()
    login(page, shop["employee_name"])
    card = page.get_by_test_id("transfers-to-confirm")
    expect(card.get_by_test_id("transfer-item")).to_have_count(1)
    expect(card).to_contain_text("¥66.00")
    expect(card).to_contain_text("垫付报销")
    asked = len(fake.requests)
    card.get_by_test_id("transfer-accept").tap()
    dialog = page.locator(".transfer-only-wechat")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("只能在微信小程序")
    shot(page, "41-transfer-only-in-wechat")
    dialog.locator(".van-dialog__confirm").tap()
    expect(dialog).to_be_hidden()
    assert len(fake.requests) == asked  # not even a status query
    assert fake.bills[out_no]["state"] == "WAIT_USER_CONFIRM"
    assert status_of(shop, p["id"]) == "submitted"
    expect(card.get_by_test_id("transfer-item")).to_have_count(1)
    page.get_by_test_id("tab-me").tap()  # 我的 shows it too (any member may be a payee)
    expect(page.get_by_test_id("transfers-to-confirm")).to_contain_text("¥66.00")

    # Inside WeChat (the stand-in bridge). The payee first closes WeChat's page: still waiting.
    page = phone()
    page.add_init_script(WECHAT_STAND_IN)
    login(page, shop["employee_name"])
    card = page.get_by_test_id("transfers-to-confirm")
    expect(card).to_contain_text("¥66.00")
    shot(page, "40-transfer-to-confirm")
    accept = card.get_by_test_id("transfer-accept")
    accept.tap()
    page.wait_for_function("window.__wxCalls.length === 1")
    page.evaluate("window.__wechatAnswers(false)")
    expect(toast(page, "已取消")).to_be_visible()
    expect(card.get_by_test_id("transfer-item")).to_have_count(1)
    assert status_of(shop, p["id"]) == "submitted"

    # Then accepts: the app passed WeChat exactly the transfer's parameters and waits for it.
    accept.tap()
    page.wait_for_function("window.__wxCalls.length === 2")
    calls = page.evaluate("window.__wxCalls")
    assert calls == [expected, expected]
    expect(accept).to_contain_text("请在微信中确认")  # loading while WeChat has the page
    # WeChat Pay moves the money when the payee accepts; its notification is slow to come
    # (notify_down), so the app's own status query (refresh) is what finds out.
    fake.notify_down = True
    fake.confirm(out_no)
    page.evaluate("window.__wechatAnswers(true)")
    expect(toast(page, "已到账")).to_be_visible()
    expect(page.get_by_test_id("transfers-to-confirm")).to_have_count(0)
    shot(page, "42-transfer-received")
    with books(shop["base_dir"]):
        payment = Payment.get_by_id(p["id"])
        assert payment.status == "succeeded" and payment.entry_id is not None
        posted = Entry.select().where(
            (Entry.business == shop["bid"]) & (Entry.source == "contract")
        )
        assert posted.count() == 1
    assert fake.bills[out_no]["state"] == "SUCCESS"


def test_owner_withdraws_a_transfer_the_payee_has_not_accepted(
    phone, shop, fake: FakeWeChatPay
) -> None:
    first, second = waiting_transfers(shop, "77.00", "88.00")
    # The payee accepts the second one in WeChat; our server has not heard yet.
    fake.notify_down = True
    fake.confirm(second["out_no"])

    page = phone()
    login(page, shop["owner_name"])
    expect(page.get_by_test_id("dashboard-ready")).to_be_visible()
    page.get_by_test_id("tab-me").tap()
    page.get_by_test_id("me-contracts").tap()
    section = page.get_by_test_id("payments-in-progress")
    rows = section.get_by_test_id("payment-in-progress")
    expect(rows).to_have_count(2)
    expect(section.get_by_test_id("payment-waiting-payee")).to_have_count(2)
    expect(section.get_by_test_id("payment-waiting-payee").first).to_have_text("等待收款人确认")
    shot(page, "43-payments-in-progress")

    # Withdraw the first: cancelled here and at WeChat Pay.
    rows.filter(has_text="77.00").get_by_test_id("payment-withdraw").tap()
    confirm = page.locator(".van-dialog").filter(has_text="撤回这笔转账")
    expect(confirm).to_be_visible()
    confirm.locator(".van-dialog__confirm").tap()
    expect(toast(page, "已撤回")).to_be_visible()
    expect(rows).to_have_count(1)
    assert status_of(shop, first["id"]) == "cancelled"
    assert fake.bills[first["out_no"]]["state"] == "CANCELLED"

    # The second was accepted meanwhile: WeChat Pay refuses (409), the app says why and reloads.
    rows.filter(has_text="88.00").get_by_test_id("payment-withdraw").tap()
    confirm.locator(".van-dialog__confirm").tap()
    refused = page.locator(".withdraw-refused")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("收款人已经确认收款")
    shot(page, "44-withdraw-refused")
    refused.locator(".van-dialog__confirm").tap()
    expect(page.get_by_test_id("payments-in-progress")).to_have_count(0)
    assert status_of(shop, second["id"]) == "succeeded"
    assert fake.bills[second["out_no"]]["state"] == "SUCCESS"
