"""WeChat Pay API v3 against a fake server on loopback: signed transfer-bills requests,
verified answers, signed and encrypted notifications delivered over HTTP to our app on a real
socket; forged, stale, replayed and tampered notifications refused and changing nothing; a 500
retried into exactly one transfer; a lost notification recovered by the scheduler's status
query; cancelling at WeChat; 2,000 yuan and more with the payee's encrypted real name."""

from __future__ import annotations

import base64
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
    rsa_decrypt,
    rsa_encrypt,
    rsa_verify,
)
from tests.claims_helpers import team
from tests.conftest import Api
from tests.fakes.wechatpay import FakeWeChatPay
from tests.live_server import gunicorn, post_raw, serve

NOTIFY = "/api/v1/payments/wechatpay/notify"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChatPay]:
    server = FakeWeChatPay().start()
    yield server
    server.stop()


@pytest.fixture
def app(app_factory, fake: FakeWeChatPay):  # type: ignore[no-untyped-def]
    fake.bills.clear()
    fake.refused.clear()
    fake.real_names.clear()
    fake.deliveries.clear()
    fake.fail_next = 0
    fake.notify_down = False
    return app_factory(**fake.app_config())


@pytest.fixture
def live(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Our app on a real socket: WeChat Pay's notifications arrive over HTTP."""
    with serve(app) as base:
        app.config["WECHATPAY_NOTIFY_URL"] = base + NOTIFY
        yield base


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
            "payee_name": {"var": "event.supplier"},
            "target": "bill",
            "method": "wechatpay",
            "memo": "货款",
        }
    ],
    "limits": {"per_run": "5000.00"},
}


def setup_bill(api: Api, t: dict, amount: str = "88.00", doc: dict | None = None) -> int:
    r = api.post(f"/businesses/{t['bid']}/contracts", {"document": doc or DOC}, token=t["owner"])
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


def notify(live: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
    """POST a notification to our running server, as WeChat Pay does: (status, JSON)."""
    return post_raw(live + NOTIFY, body, headers)


def pay_bill(api: Api, t: dict, amount: str = "88.00") -> Payment:
    """A deployed contract pays an approved, due bill by WeChat transfer."""
    bill = setup_bill(api, t, amount)
    assert (
        api.post(f"/businesses/{t['bid']}/contracts/process", {}, token=t["owner"]).status_code
        == 200
    )
    p = Payment.get()
    assert p.target_id == bill
    return p


def verify_clean(app) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["chain", "verify", "--quiet"])
    assert result.exit_code == 0, result.output


def snapshot() -> tuple[int, ...]:
    return (
        Entry.select().count(),
        ChainLeaf.select().count(),
        PaymentNotice.select().count(),
        Payment.select().where(Payment.status == "succeeded").count(),
    )


def test_transfer_signed_confirmed_by_notification_once(
    api: Api, t: dict, fake: FakeWeChatPay, app, live: str
) -> None:  # type: ignore[no-untyped-def]
    p = pay_bill(api, t)
    assert p.status == "submitted" and p.provider == "wechatpay"
    assert [r["signature_ok"] for r in fake.requests[-1:]] == [True]
    sent = json.loads(fake.requests[-1]["body"])
    assert sent["out_bill_no"] == p.out_no and sent["transfer_amount"] == 8800
    assert sent["openid"] == "o-supplier" and "user_name" not in sent  # under 2,000 yuan
    assert sent["notify_url"] == live + NOTIFY
    # The payee confirms; WeChat Pay POSTs the signed, encrypted notification to our server.
    assert fake.confirm(p.out_no) == 200
    assert fake.deliveries[-1]["attempts"] == 1
    assert Payment.get().status == "succeeded" and Bill.get_by_id(p.target_id).status == "paid"
    # The same notification again (WeChat re-sends): refused as a replay, nothing changes.
    before = snapshot()
    status, answer = notify(live, fake.deliveries[-1]["headers"], fake.deliveries[-1]["body"])
    assert status == 401 and answer["error"]["code"] == "notification_replayed"
    assert snapshot() == before
    # A second notification for the same bill (new id): applied once only.
    assert notify(live, *fake.transfer_finished(p.out_no))[0] == 200
    assert Entry.select().where(Entry.source == "contract").count() == 1
    verify_clean(app)


@pytest.mark.parametrize("forgery", ["wrong_key", "stale", "tampered", "probe", "wrong_serial"])
def test_forged_notifications_refused(
    api: Api, t: dict, fake: FakeWeChatPay, live: str, forgery: str
) -> None:
    p = pay_bill(api, t)
    kw: dict = {}
    if forgery == "wrong_key":
        kw["signing_key"] = RSA.generate(2048)
    elif forgery == "stale":
        kw["timestamp"] = int(utcnow().timestamp()) - 3600
    elif forgery == "tampered":
        kw["tamper"] = True
    fake.bills[p.out_no]["state"] = "SUCCESS"  # what a forger would like us to believe
    headers, body = fake.transfer_finished(p.out_no, **kw)
    if forgery == "probe":
        headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    if forgery == "wrong_serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_SOMEONE_ELSE"
    before = snapshot()
    status, answer = notify(live, headers, body)
    assert status == 401, answer
    assert answer["error"]["code"] == "notification_refused"
    assert snapshot() == before and Payment.get().status == "submitted"


def test_server_error_retried_into_exactly_one_transfer(
    api: Api, t: dict, fake: FakeWeChatPay, app, live: str
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
    assert fake.confirm(p.out_no) == 200
    with app.app_context():
        assert payments.retry_due(later + dt.timedelta(days=3)) == 0
        assert payments.reconcile_due(later + dt.timedelta(days=3)) == 0  # nothing to ask
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
    api: Api, t: dict, fake: FakeWeChatPay, live: str
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
    assert notify(live, headers, body)[0] == 200
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


def test_jsapi_collection_order_then_notification(
    api: Api, t: dict, fake: FakeWeChatPay, live: str
) -> None:
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
    assert notify(live, headers, body)[0] == 200
    content = json.loads(ChainLeaf.get(ChainLeaf.type == "payment.received").data)["content"]
    assert content["reference"] == "ORDER-10" and content["payer"] == "openid:o-payer"
    # An order number of a business that does not exist: refused, nothing recorded.
    before = snapshot()
    status, _ = notify(live, *fake.transaction_success("SP999999Xdead", 100, "X"))
    assert status == 422 and snapshot() == before


def leaf_types() -> list[str]:
    return [leaf.type for leaf in ChainLeaf.select().order_by(ChainLeaf.business_id, ChainLeaf.idx)]


def test_lost_notification_recovered_by_status_query(
    api: Api, t: dict, fake: FakeWeChatPay, app, live: str
) -> None:  # type: ignore[no-untyped-def]
    """The payee confirms but no notification ever reaches us: the scheduler asks WeChat Pay."""
    p = pay_bill(api, t)
    fake.notify_down = True
    assert fake.confirm(p.out_no) is None and fake.deliveries == []
    submitted_at = Payment.get().updated_at
    with app.app_context():
        # Not yet due: the first question is asked a minute after submission.
        assert payments.reconcile_due(submitted_at + dt.timedelta(seconds=30)) == 0
        assert payments.reconcile_due(submitted_at + dt.timedelta(seconds=61)) == 1
    p = Payment.get()
    assert p.status == "succeeded" and p.entry_id is not None
    assert Bill.get_by_id(p.target_id).status == "paid"
    asked = [r for r in fake.requests if r["path"].endswith("/out-bill-no/" + p.out_no)]
    assert len(asked) == 1 and asked[0]["signature_ok"]
    assert leaf_types()[-1] == "payment.succeeded"
    # The notification turns up after all (WeChat's late retry): nothing is paid twice.
    assert notify(live, *fake.transfer_finished(p.out_no))[0] == 200
    assert Entry.select().where(Entry.source == "contract").count() == 1
    with app.app_context():
        assert payments.reconcile_due(utcnow() + dt.timedelta(days=1)) == 0
    verify_clean(app)


def test_unconfirmed_transfer_asked_less_often_without_chain_noise(
    api: Api, t: dict, fake: FakeWeChatPay, app
) -> None:  # type: ignore[no-untyped-def]
    p = pay_bill(api, t)
    start, leaves = p.updated_at, ChainLeaf.select().count()
    gaps = []
    now = start + dt.timedelta(seconds=60)
    with app.app_context():
        for _ in range(12):
            assert payments.reconcile_due(now) == 1
            nxt = Payment.get().next_attempt_at
            gaps.append((nxt - now).total_seconds())
            now = nxt
    assert Payment.get().status == "submitted"
    assert gaps == sorted(gaps) and gaps[0] == 60 and gaps[-1] > 600  # backs off
    assert max(gaps) <= payments.POLL_MAX_SECONDS
    assert ChainLeaf.select().count() == leaves  # a question that changes nothing is no event
    # WeChat Pay unreachable for one question: noted, asked again later, then applied.
    fake.fail_next = 1
    with app.app_context():
        payments.reconcile_due(now)
        p = Payment.get()
        assert p.status == "submitted" and "500" in p.last_error and p.next_attempt_at > now
        fake.confirm(p.out_no, "FAIL")  # delivered nowhere useful: notify_url is not served
        payments.reconcile_due(p.next_attempt_at)
    p = Payment.get()
    assert p.status == "failed" and "PAYEE_ACCOUNT_ABNORMAL" in p.last_error
    assert Bill.get_by_id(p.target_id).status == "approved"  # to be paid another way
    assert Entry.select().where(Entry.source == "contract").count() == 0


def test_owner_cancels_unconfirmed_transfer_at_wechatpay(
    api: Api, t: dict, fake: FakeWeChatPay, app, live: str
) -> None:  # type: ignore[no-untyped-def]
    p = pay_bill(api, t)
    url = f"/businesses/{t['bid']}/payments/{p.id}/cancel"
    r = api.post(url, {"reason": "供应商要求改用银行转账"}, token=t["owner"])
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "cancelled"
    assert fake.bills[p.out_no]["state"] == "CANCELLED"
    assert Bill.get_by_id(p.target_id).status == "approved"
    assert leaf_types()[-1] == "payment.cancelled"
    # The payee can no longer accept it.
    with pytest.raises(AssertionError):
        fake.confirm(p.out_no)
    verify_clean(app)


def test_cancel_after_the_payee_confirmed_is_refused_and_books_the_payment(
    api: Api, t: dict, fake: FakeWeChatPay, app
) -> None:  # type: ignore[no-untyped-def]
    p = pay_bill(api, t)
    fake.notify_down = True
    fake.confirm(p.out_no)  # money moved; we have not heard yet
    r = api.post(
        f"/businesses/{t['bid']}/payments/{p.id}/cancel", {"reason": "x"}, token=t["owner"]
    )
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["error"]["details"]["status"] == "succeeded"
    assert Payment.get().status == "succeeded" and Bill.get_by_id(p.target_id).status == "paid"


def test_two_thousand_yuan_and_more_carries_the_encrypted_real_name(
    api: Api, t: dict, fake: FakeWeChatPay, app, live: str
) -> None:  # type: ignore[no-untyped-def]
    fake.real_names["o-supplier"] = "好味"
    p = pay_bill(api, t, "2000.00")
    sent = json.loads(fake.requests[-1]["body"])
    assert sent["transfer_amount"] == 200000
    # Only WeChat Pay's private key opens it; the plain name is nowhere in the request.
    assert "好味" not in fake.requests[-1]["body"]
    assert rsa_decrypt(fake.platform_key, sent["user_name"]) == "好味"
    assert p.status == "submitted"
    assert fake.confirm(p.out_no) == 200
    assert Payment.get().status == "succeeded"
    verify_clean(app)


def test_real_name_interoperates_with_oaep_sha1_of_another_library() -> None:
    """Our OAEP parameters are the ones WeChat Pay's SDKs use (SHA-1, MGF1-SHA-1)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding as crypto

    key = RSA.generate(2048)
    theirs = serialization.load_pem_private_key(key.export_key(), password=None)
    ct = base64.b64decode(rsa_encrypt(key.public_key(), "张三"))
    oaep = crypto.OAEP(mgf=crypto.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    assert theirs.decrypt(ct, oaep).decode() == "张三"


@pytest.mark.parametrize("case", ["wrong_name", "no_name"])
def test_large_transfer_without_the_right_name_fails_cleanly(
    api: Api, t: dict, fake: FakeWeChatPay, case: str
) -> None:
    fake.real_names["o-supplier"] = "好味餐饮" if case == "wrong_name" else "好味"
    doc = json.loads(json.dumps(DOC))
    if case == "no_name":
        del doc["actions"][0]["payee_name"]
    setup_bill(api, t, "2500.00", doc=doc)
    api.post(f"/businesses/{t['bid']}/contracts/process", {}, token=t["owner"])
    p = Payment.get()
    assert p.status == "failed"
    assert (
        Bill.get().status == "approved"
        and Entry.select().where(Entry.source == "contract").count() == 0
    )
    if case == "wrong_name":
        assert "NAME_NOT_CORRECT" in p.last_error and list(fake.bills) == [p.out_no]
    else:
        assert "real name" in p.last_error and fake.bills == {}  # never sent


def test_notifications_reach_gunicorn_workers(
    api: Api, t: dict, fake: FakeWeChatPay, app, database_url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """As deployed: ./scripts/run's gunicorn worker processes take WeChat Pay's callbacks."""
    env = {k: str(v) for k, v in fake.app_config().items()}
    with gunicorn(database_url, tmp_path, env) as base:
        app.config["WECHATPAY_NOTIFY_URL"] = base + NOTIFY
        p = pay_bill(api, t)
        assert fake.confirm(p.out_no) == 200
        # A replay and a forgery, over the same socket, to the other worker or this one.
        delivered = fake.deliveries[-1]
        assert notify(base, delivered["headers"], delivered["body"])[0] == 401
        forged = fake.transfer_finished(p.out_no, signing_key=RSA.generate(2048))
        assert notify(base, *forged)[0] == 401
    p = Payment.get()
    assert p.status == "succeeded" and Entry.select().where(Entry.source == "contract").count() == 1
    verify_clean(app)


def test_payee_confirms_in_the_app_then_refresh_books_it(
    api: Api, t: dict, fake: FakeWeChatPay, app
) -> None:  # type: ignore[no-untyped-def]
    """商家转账's confirmation step: the payee sees the transfer, gets the parameters for
    wx.requestMerchantTransfer, accepts, and asks for the result without waiting for the
    notification."""
    from app.models import User

    emma = User.get(User.username == "emma")
    User.update(wechat_openid="o-emma").where(User.id == emma.id).execute()
    bid = t["bid"]
    waiting = f"/businesses/{bid}/payments/to-confirm"
    assert api.get(waiting, token=t["employee"]).get_json()["items"] == []
    r = api.post(
        f"/businesses/{bid}/bills",
        {
            "supplier": "Emma",
            "payee": f"user:{emma.id}",
            "amount": "66.00",
            "due_date": "2026-01-01",
        },
        token=t["owner"],
    )
    bill = r.get_json()["id"]
    api.post(f"/businesses/{bid}/bills/{bill}/approve", {}, token=t["owner"])
    r = api.post(f"/businesses/{bid}/contracts", {"document": DOC}, token=t["owner"])
    api.post(f"/businesses/{bid}/contracts/{r.get_json()['id']}/deploy", {}, token=t["owner"])
    api.post(f"/businesses/{bid}/contracts/process", {}, token=t["owner"])
    p = Payment.get()
    assert p.status == "submitted" and json.loads(fake.requests[-1]["body"])["openid"] == "o-emma"
    [item] = api.get(waiting, token=t["employee"]).get_json()["items"]
    assert item["id"] == p.id and item["amount"] == "66.00"
    assert item["confirm"] == {
        "mchId": fake.mchid,
        "appId": "wx-test-app",
        "package": fake.bills[p.out_no]["package_info"],
        "openId": "o-emma",
    }
    # Somebody else's transfer is neither listed nor refreshable for them.
    assert api.get(waiting, token=t["viewer"]).get_json()["items"] == []
    refresh = f"/businesses/{bid}/payments/{p.id}/refresh"
    assert api.post(refresh, {}, token=t["viewer"]).status_code == 404
    r = api.post(refresh, {}, token=t["employee"])
    assert r.status_code == 200 and r.get_json()["waiting_for_payee"] is True
    assert "payee" not in r.get_json()  # the payee sees their payment, not the books
    fake.notify_down = True
    fake.confirm(p.out_no)
    r = api.post(refresh, {}, token=t["employee"])
    assert r.get_json()["status"] == "succeeded"
    assert api.get(waiting, token=t["employee"]).get_json()["items"] == []
    assert Entry.select().where(Entry.source == "contract").count() == 1
    verify_clean(app)


def test_scheduler_tick_asks_about_submitted_transfers(
    api: Api, t: dict, fake: FakeWeChatPay, app
) -> None:  # type: ignore[no-untyped-def]
    """The job scripts/run_scheduler.py runs every CONTRACTS_TICK_SECONDS does the asking."""
    from app.contracts.jobs import contracts_job

    p = pay_bill(api, t)
    fake.notify_down = True
    fake.confirm(p.out_no)
    contracts_job(app)
    assert Payment.get().status == "submitted"  # not due yet: asked a minute after submission
    Payment.update(next_attempt_at=utcnow() - dt.timedelta(seconds=1)).execute()
    contracts_job(app)
    assert Payment.get().status == "succeeded"


def test_accepted_but_in_transit_is_no_longer_offered_to_the_payee(
    api: Api, t: dict, fake: FakeWeChatPay, app
) -> None:  # type: ignore[no-untyped-def]
    from app.models import User

    emma = User.get(User.username == "emma")
    User.update(wechat_openid="o-emma").where(User.id == emma.id).execute()
    bid = t["bid"]
    r = api.post(
        f"/businesses/{bid}/bills",
        {
            "supplier": "Emma",
            "payee": f"user:{emma.id}",
            "amount": "9.00",
            "due_date": "2026-01-01",
        },
        token=t["owner"],
    )
    api.post(f"/businesses/{bid}/bills/{r.get_json()['id']}/approve", {}, token=t["owner"])
    r = api.post(f"/businesses/{bid}/contracts", {"document": DOC}, token=t["owner"])
    api.post(f"/businesses/{bid}/contracts/{r.get_json()['id']}/deploy", {}, token=t["owner"])
    api.post(f"/businesses/{bid}/contracts/process", {}, token=t["owner"])
    p = Payment.get()
    waiting = f"/businesses/{bid}/payments/to-confirm"
    assert len(api.get(waiting, token=t["employee"]).get_json()["items"]) == 1
    fake.confirm(p.out_no, "TRANSFERING")  # accepted; the money is on its way
    r = api.post(f"/businesses/{bid}/payments/{p.id}/refresh", {}, token=t["employee"])
    assert r.get_json() | {"id": 0} == {
        "id": 0,
        "amount": "9.00",
        "memo": "货款",
        "status": "submitted",
        "waiting_for_payee": False,
    }
    assert api.get(waiting, token=t["employee"]).get_json()["items"] == []
    fake.bills[p.out_no]["state"] = "SUCCESS"
    r = api.post(f"/businesses/{bid}/payments/{p.id}/refresh", {}, token=t["employee"])
    assert r.get_json()["status"] == "succeeded"


def test_paid_but_books_refuse_stays_submitted_until_fixed(
    api: Api, t: dict, fake: FakeWeChatPay, app, live: str
) -> None:  # type: ignore[no-untyped-def]
    """The money moved, but the payable account was deactivated after deployment: nothing is
    lost or doubled; the notification is refused (WeChat re-sends) and the status query books
    it once the account is active again."""
    from app.models import Account

    p = pay_bill(api, t)
    payable = Account.business == t["bid"], Account.code == "2202"
    Account.update(is_active=False).where(*payable).execute()
    assert fake.confirm(p.out_no) == 422
    assert fake.deliveries[-1]["attempts"] == 3
    p = Payment.get()
    assert p.status == "submitted" and p.entry_id is None
    assert PaymentNotice.select().count() == 0  # refused notifications are not remembered
    with app.app_context():
        payments.reconcile_due(p.updated_at + dt.timedelta(seconds=61))
    p = Payment.get()
    assert p.status == "submitted" and "books refused" in p.last_error
    Account.update(is_active=True).where(*payable).execute()
    with app.app_context():
        payments.reconcile_due(p.next_attempt_at)
    p = Payment.get()
    assert p.status == "succeeded" and Entry.select().where(Entry.source == "contract").count() == 1
    verify_clean(app)
