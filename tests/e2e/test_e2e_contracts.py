"""Contracts in the app: the owner creates a rule from a template's form, switches it on
(deploys it), dry-runs it, sees its run in the history with its chain leaf, and approves the
payment it is waiting on in the 审批 tab."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import login, shot


def test_owner_runs_a_bill_rule_and_approves_its_payment(phone, api, unique) -> None:
    username = unique("laoban")
    owner = api.register(username, "周老板")
    bid = owner.business("周记米铺")
    page = phone()
    login(page, username)
    expect(page.get_by_test_id("dashboard-ready")).to_be_visible()
    page.get_by_test_id("tab-me").tap()
    page.get_by_test_id("me-contracts").tap()
    expect(page.get_by_test_id("contracts-list")).to_be_visible()

    # A rule from the "pay bills" template: above 500.00 the owner approves.
    page.get_by_test_id("template-pay_bills").tap()
    field = page.get_by_test_id("field-approval_above").locator("input")
    field.fill("500.00")
    page.get_by_test_id("template-create").tap()
    item = page.get_by_test_id("contract-item")
    expect(item).to_contain_text("到期支付供应商账单")
    item.get_by_test_id("contract-switch").tap()  # deploy and enable
    expect(item.locator(".van-switch--on")).to_be_visible()
    shot(page, "30-contracts")

    # A supplier's bill is due: the rule asks the owner to approve the payment.
    b = owner.call(
        "POST",
        f"/api/v1/businesses/{bid}/bills",
        {"supplier": "五常米业", "amount": "880.00", "due_date": "2026-01-05"},
    )
    owner.call("POST", f"/api/v1/businesses/{bid}/bills/{b['id']}/approve", {})
    assert owner.call("POST", f"/api/v1/businesses/{bid}/contracts/process", {})["runs"] == 1

    page.reload()
    runs = page.get_by_test_id("contract-runs")
    expect(runs.get_by_test_id("run-item")).to_contain_text("已执行")
    expect(runs).to_contain_text("区块记录 #")
    item = page.get_by_test_id("contract-item")
    item.get_by_test_id("contract-dry-run").tap()
    expect(page.get_by_test_id("dry-run-result")).to_contain_text("会执行 1 次")
    shot(page, "31-contract-dry-run")
    page.goto("/approvals")
    approvals = page.get_by_test_id("payment-approvals")
    expect(approvals).to_contain_text("880.00")
    shot(page, "32-payment-approval")
    approvals.get_by_test_id("payment-approve").tap()
    expect(page.get_by_test_id("payment-approvals")).to_have_count(0)
    [p] = owner.call("GET", f"/api/v1/businesses/{bid}/payments")["items"]
    assert p["status"] == "submitted" and p["approved_by"] is not None
