"""Notifications: in-app, and WeChat one-time subscription messages against a loopback fake
that speaks subscribeMessage.send; one credit is consumed per message and counted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.db import db
from app.models import User
from app.models.tax import TaxNotification, WeChatSubscription
from tests.conftest import Api, new_business, register
from tests.fakes.wechat_subscribe import FakeSubscribeMessage
from tests.tax_helpers import profile, quick

TEMPLATE = "tmpl-tax-warning"


@pytest.fixture
def wechat() -> Iterator[FakeSubscribeMessage]:
    with FakeSubscribeMessage() as fake:
        fake.templates.add(TEMPLATE)
        yield fake


@pytest.fixture
def wx(app_factory, wechat: FakeSubscribeMessage):  # type: ignore[no-untyped-def]
    app = app_factory(
        WECHAT_APP_ID=wechat.app_id,
        WECHAT_APP_SECRET=wechat.secret,
        WECHAT_API_BASE=wechat.base_url,
        TAX_WECHAT_TEMPLATE_ID=TEMPLATE,
        TAX_WECHAT_TEMPLATE_FIELDS="thing1=title,phrase2=severity,date3=date",
    )
    api = Api(app.test_client())
    owner = register(api, "wx_owner")
    api.token = owner["access_token"]
    with db.connection_context():
        User.update(wechat_openid="o-owner").where(User.id == owner["user_id"]).execute()
    business = new_business(api, owner["access_token"])
    return app, api, owner, business


def _notify(app) -> str:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["tax", "notify"])
    assert result.exit_code == 0, result.output
    return result.output


def _credits(user_id: int) -> WeChatSubscription:
    with db.connection_context():
        return WeChatSubscription.get(
            (WeChatSubscription.user == user_id) & (WeChatSubscription.template_id == TEMPLATE)
        )


def _log(status: str, channel: str = "wechat") -> int:
    with db.connection_context():
        return (
            TaxNotification.select()
            .where((TaxNotification.channel == channel) & (TaxNotification.status == status))
            .count()
        )


def test_one_credit_one_message(wx, wechat: FakeSubscribeMessage) -> None:  # type: ignore[no-untyped-def]
    app, api, owner, business = wx
    bid = business["id"]
    profile(api, bid, vat_filing_basis="monthly")
    r = api.post("/me/wechat-subscriptions", {"results": {TEMPLATE: "accept", "other": "reject"}})
    assert r.get_json()["items"] == [{"template_id": TEMPLATE, "credits": 1}]
    wechat.subscriptions[("o-owner", TEMPLATE)] = 1  # the same acceptance, seen by WeChat

    quick(api, bid, "income", "100000.00", "sales", "2026-03-10")  # alert at once (2026 rule)
    assert "delivered 1" in _notify(app)
    (msg,) = wechat.sent
    assert msg["touser"] == "o-owner" and msg["template_id"] == TEMPLATE
    assert len(msg["data"]["thing1"]["value"]) <= 20  # clipped to the thing limit
    assert msg["data"]["phrase2"]["value"] == "预警"
    row = _credits(owner["user_id"])
    assert (row.credits, row.accepted_total, row.consumed_total) == (0, 1, 1)
    assert _log("sent") == 1 and _log("sent", "in_app") == 1

    assert "delivered 0" in _notify(app)  # nothing new: not sent twice
    quick(api, bid, "expense", "1500.00", "office", "2026-03-11", paid_with="cash")  # new warning
    _notify(app)
    assert len(wechat.sent) == 1  # no credit left: skipped, not sent
    assert _log("skipped") == 1


def test_refused_subscription_zeroes_the_credit(wx, wechat: FakeSubscribeMessage) -> None:  # type: ignore[no-untyped-def]
    app, api, owner, business = wx
    api.post("/me/wechat-subscriptions", {"results": {TEMPLATE: "accept"}})
    api.post("/me/wechat-subscriptions", {"results": {TEMPLATE: "acceptWithAudio"}})
    assert _credits(owner["user_id"]).credits == 2
    # WeChat knows of none (the user cancelled): 43101.
    quick(api, business["id"], "expense", "1500.00", "office", "2026-03-11", paid_with="cash")
    _notify(app)
    assert wechat.sent == []
    assert _credits(owner["user_id"]).credits == 0
    with db.connection_context():
        (n,) = TaxNotification.select().where(TaxNotification.channel == "wechat")
    assert n.status == "failed" and n.detail.startswith("43101")


def test_unreachable_wechat_gives_the_credit_back(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(
        WECHAT_APP_ID="wx",
        WECHAT_APP_SECRET="s",
        WECHAT_API_BASE="http://127.0.0.1:9",  # discard port: connection refused
        WECHAT_TIMEOUT_SECONDS=0.5,
        TAX_WECHAT_TEMPLATE_ID=TEMPLATE,
    )
    api = Api(app.test_client())
    owner = register(api, "wx2")
    api.token = owner["access_token"]
    with db.connection_context():
        User.update(wechat_openid="o-2").where(User.id == owner["user_id"]).execute()
    b = new_business(api, owner["access_token"])
    api.post("/me/wechat-subscriptions", {"results": {TEMPLATE: "accept"}})
    quick(api, b["id"], "expense", "1500.00", "office", "2026-03-11", paid_with="cash")
    _notify(app)
    assert _credits(owner["user_id"]).credits == 1
    assert _log("failed") == 1


def test_escalation_is_notified_again(wx, wechat: FakeSubscribeMessage) -> None:  # type: ignore[no-untyped-def]
    app, api, owner, business = wx
    bid = business["id"]
    profile(api, bid, vat_filing_basis="monthly")
    api.post("/me/wechat-subscriptions", {"results": {TEMPLATE: "accept"}})
    api.post("/me/wechat-subscriptions", {"results": {TEMPLATE: "accept"}})
    wechat.subscriptions[("o-owner", TEMPLATE)] = 2
    quick(api, bid, "income", "90000.00", "sales", "2026-03-10")  # warn
    _notify(app)
    quick(api, bid, "income", "10000.00", "sales", "2026-03-11")  # alert
    _notify(app)
    assert [m["data"]["phrase2"]["value"] for m in wechat.sent] == ["提醒", "预警"]
    assert _credits(owner["user_id"]).consumed_total == 2
