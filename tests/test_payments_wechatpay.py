"""WeChat Pay API v3 against a fake server on loopback: signed transfer-bills requests,
verified answers, signed and encrypted notifications; forged, stale, replayed and tampered
notifications refused and changing nothing; a 500 retried into exactly one transfer."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from Crypto.PublicKey import RSA

from app.clock import utcnow
from app.models import Bill, ChainLeaf, Entry, Payment, PaymentNotice, Receivable
from app.payments import service as payments
from app.payments.wechatpay_crypto import (
    SignatureError,
    authorization,
    decrypt_resource,
    encrypt_resource,
    parse_authorization,
    request_message,
    rsa_verify,
)
from tests.claims_helpers import team
from tests.conftest import Api
from tests.fakes.wechatpay import FakeWeChatPay

NOTIFY = "/payments/wechatpay/notify"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChatPay]:
    server = FakeWeChatPay().start()
    yield server
    server.stop()


@pytest.fixture
def app(app_factory, fake: FakeWeChatPay):  # type: ignore[no-untyped-def]
    fake.bills.clear()
    fake.refused.clear()
    fake.fail_next = 0
    return app_factory(**fake.app_config())


@pytest.fixture
def t(api: Api) -> dict:
    return team(api)


DOC = {
    "name": "微信付供应商",
    "trigger": {"event": "bill.due"},
    "actions": [
        {
            "type": "pay",
            "payee": {"var": "event.payee"},
            "amount": {"var": "event.amount"},
            "from_account": "101201",
            "to_account": "2202",
            "target": "bill",
            "method": "wechatpay",
            "memo": "货款",
        }
    ],
    "limits": {"per_run": "1000.00"},
}


def setup_bill(api: Api, t: dict, amount: str = "88.00") -> int:
    r = api.post(f"/businesses/{t['bid']}/contracts", {"document": DOC}, token=t["owner"])
    assert r.status_code == 201, r.get_json()
    cid = r.get_json()["id"]
    assert (
        api.post(f"/businesses/{t['bid']}/contracts/{cid}/deploy", {}, token=t["owner"]).status_code
        == 200
    )
    r = api.post(
        f"/businesses/{t['bid']}/bills",
        {
            "supplier": "好味",
            "payee": "openid:o-supplier",
            "amount": amount,
            "due_date": "2026-01-01",
        },
        token=t["owner"],
    )
    bill = r.get_json()["id"]
    assert (
        api.post(f"/businesses/{t['bid']}/bills/{bill}/approve", {}, token=t["owner"]).status_code
        == 200
    )
    return bill


def notify(api: Api, headers: dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
    return api.post(NOTIFY, data=body, headers=headers, token="")


def snapshot() -> tuple[int, ...]:
    return (
        Entry.select().count(),
        ChainLeaf.select().count(),
        PaymentNotice.select().count(),
        Payment.select().where(Payment.status == "succeeded").count(),
    )


def test_transfer_signed_confirmed_by_notification_once(
    api: Api, t: dict, fake: FakeWeChatPay, app
) -> None:  # type: ignore[no-untyped-def]
    bill = setup_bill(api, t)
    api.post(f"/businesses/{t['bid']}/contracts/process", {}, token=t["owner"])
    p = Payment.get()
    assert p.status == "submitted" and p.provider == "wechatpay"
    assert [r["signature_ok"] for r in fake.requests[-1:]] == [True]
    sent = json.loads(fake.requests[-1]["body"])
    assert sent["out_bill_no"] == p.out_no and sent["transfer_amount"] == 8800
    assert sent["openid"] == "o-supplier"
    headers, body = fake.transfer_finished(p.out_no)
    r = notify(api, headers, body)
    assert r.status_code == 200, r.get_json()
    assert Payment.get().status == "succeeded" and Bill.get_by_id(bill).status == "paid"
    # The same notification again (WeChat re-sends): refused as a replay, nothing changes.
    before = snapshot()
    r = notify(api, headers, body)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "notification_replayed"
    assert snapshot() == before
    # A second notification for the same bill (new id): applied once only.
    r = notify(api, *fake.transfer_finished(p.out_no))
    assert r.status_code == 200
    assert Entry.select().where(Entry.source == "contract").count() == 1
    result = app.test_cli_runner().invoke(args=["chain", "verify", "--quiet"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("forgery", ["wrong_key", "stale", "tampered", "probe", "wrong_serial"])
def test_forged_notifications_refused(api: Api, t: dict, fake: FakeWeChatPay, forgery: str) -> None:
    setup_bill(api, t)
    api.post(f"/businesses/{t['bid']}/contracts/process", {}, token=t["owner"])
    p = Payment.get()
    kw: dict = {}
    if forgery == "wrong_key":
        kw["signing_key"] = RSA.generate(2048)
    elif forgery == "stale":
        kw["timestamp"] = int(utcnow().timestamp()) - 3600
    elif forgery == "tampered":
        kw["tamper"] = True
    headers, body = fake.transfer_finished(p.out_no, **kw)
    if forgery == "probe":
        headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    if forgery == "wrong_serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_SOMEONE_ELSE"
    before = snapshot()
    r = notify(api, headers, body)
    assert r.status_code == 401, r.get_json()
    assert r.get_json()["error"]["code"] == "notification_refused"
    assert snapshot() == before and Payment.get().status == "submitted"


def test_server_error_retried_into_exactly_one_transfer(
    api: Api, t: dict, fake: FakeWeChatPay, app
) -> None:  # type: ignore[no-untyped-def]
    setup_bill(api, t)
    fake.fail_next = 2
    api.post(f"/businesses/{t['bid']}/contracts/process", {}, token=t["owner"])
    p = Payment.get()
    assert p.status == "created" and p.attempts == 1 and "500" in p.last_error
    later = utcnow() + dt.timedelta(days=1)
    with app.app_context():  # as in the scheduler's job
        payments.retry_due(later)
        assert Payment.get().status == "created"
        payments.retry_due(later + dt.timedelta(days=1))
    p = Payment.get()
    assert p.status == "submitted" and p.attempts == 3
    assert list(fake.bills) == [p.out_no]  # one transfer at WeChat Pay
    assert notify(api, *fake.transfer_finished(p.out_no)).status_code == 200
    with app.app_context():
        assert payments.retry_due(later + dt.timedelta(days=3)) == 0
    assert Payment.get().status == "succeeded"


def test_our_bad_signature_is_refused_by_wechatpay(
    api: Api, t: dict, fake: FakeWeChatPay, app
) -> None:  # type: ignore[no-untyped-def]
    app.config["WECHATPAY_PRIVATE_KEY"] = RSA.generate(2048).export_key().decode()
    setup_bill(api, t)
    api.post(f"/businesses/{t['bid']}/contracts/process", {}, token=t["owner"])
    assert fake.refused == ["签名错误"]
    p = Payment.get()
    assert p.status == "failed" and "SIGN_ERROR" in p.last_error and fake.bills == {}


def test_jsapi_payment_becomes_payment_received_and_settles(
    api: Api, t: dict, fake: FakeWeChatPay
) -> None:
    doc = {
        "name": "收款核销",
        "trigger": {"event": "payment.received"},
        "actions": [
            {
                "type": "settle",
                "kind": "receivable",
                "reference": {"var": "event.reference"},
                "to_account": "101201",
            }
        ],
    }
    r = api.post(f"/businesses/{t['bid']}/contracts", {"document": doc}, token=t["owner"])
    cid = r.get_json()["id"]
    api.post(f"/businesses/{t['bid']}/contracts/{cid}/deploy", {}, token=t["owner"])
    api.post(
        f"/businesses/{t['bid']}/receivables",
        {"customer": "李女士", "amount": "45.00", "reference": "ORDER-9"},
        token=t["owner"],
    )
    headers, body = fake.transaction_success(f"SP{t['bid']}Xabc123", 4500, "ORDER-9")
    assert notify(api, headers, body).status_code == 200
    received = ChainLeaf.get(ChainLeaf.type == "payment.received")
    assert json.loads(received.data)["content"]["amount"] == "45.00"
    api.post(f"/businesses/{t['bid']}/contracts/process", {}, token=t["owner"])
    assert Receivable.get().status == "settled"


def test_crypto_round_trips_and_message_layout() -> None:
    assert request_message(
        "GET", "/v3/certificates", "1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242", ""
    ) == ("GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n")
    key = RSA.generate(2048)
    header = authorization("1900000109", "SER", key, "POST", "/v3/x", '{"a":1}', 1554208460, "N1")
    fields = parse_authorization(header)
    msg = request_message("POST", "/v3/x", "1554208460", "N1", '{"a":1}')
    assert rsa_verify(key.public_key(), msg, fields["signature"])
    assert not rsa_verify(key.public_key(), msg + "x", fields["signature"])
    k = b"0" * 32
    enc = encrypt_resource(b"hello", k, "nonce0123456", "")
    assert decrypt_resource(enc, k) == b"hello"
    with pytest.raises(SignatureError):
        decrypt_resource({**enc, "associated_data": "x"}, k)
    with pytest.raises(SignatureError):
        decrypt_resource(enc, b"1" * 32)


def test_jsapi_collection_order_then_notification(api: Api, t: dict, fake: FakeWeChatPay) -> None:
    r = api.post(
        f"/businesses/{t['bid']}/payments/collect",
        {"amount": "45.00", "reference": "ORDER-10", "openid": "o-customer"},
        token=t["owner"],
    )
    assert r.status_code == 201, r.get_json()
    params = r.get_json()
    order = fake.orders[params["out_trade_no"]]
    assert order["amount"] == {"total": 4500, "currency": "CNY"} and order["attach"] == "ORDER-10"
    assert params["package"] == f"prepay_id={order['prepay_id']}"
    message = (
        f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    )
    assert rsa_verify(fake.merchant_key.public_key(), message, params["paySign"])
    headers, body = fake.transaction_success(params["out_trade_no"], 4500, "ORDER-10")
    assert notify(api, headers, body).status_code == 200
    content = json.loads(ChainLeaf.get(ChainLeaf.type == "payment.received").data)["content"]
    assert content["reference"] == "ORDER-10" and content["payer"] == "openid:o-payer"
    # An order number of a business that does not exist: refused, nothing recorded.
    before = snapshot()
    r = notify(api, *fake.transaction_success("SP999999Xdead", 100, "X"))
    assert r.status_code == 422 and snapshot() == before
