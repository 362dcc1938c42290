"""The WeChat Pay API v3 provider (china-facts §9): 商家转账 transfer-bills for payouts, and the
payment notifications (JSAPI collection, transfer results) that come back.

- A payout is `POST /v3/fund-app/mch-transfer/transfer-bills` with `out_bill_no` = the payment's
  `out_no`, so a retry after a timeout asks about the same bill rather than paying again. The
  answer (`WAIT_USER_CONFIRM` plus `package_info`) leaves the payment submitted: the payee
  confirms in the mini program (`wx.requestMerchantTransfer`), and the result arrives as a
  `MCHTRANSFER.BILL.FINISHED` notification.
- A notification may never come (our server was down past WeChat's retries, or the network
  ate it), so the scheduler also asks: `GET .../transfer-bills/out-bill-no/{out_bill_no}`
  (`query`), and an owner may withdraw a bill the payee has not confirmed (`cancel`, `POST
  .../out-bill-no/{out_bill_no}/cancel`).
- 2,000 yuan or more needs the payee's real name, sent as `user_name` encrypted with the
  platform public key (RSA-OAEP), with `Wechatpay-Serial` naming that key (§9.5).
- Every response is verified with the platform public key before it is believed.
- Notifications: signature and freshness checked, the notification id recorded (a replay is
  refused), the resource decrypted with the APIv3 key. `TRANSACTION.SUCCESS` (a customer paid)
  becomes a `payment.received` leaf; a transfer result settles the payment's state.

Secrets (the merchant private key, the APIv3 key) come from the environment or files in
instance/, never from git (README, configuration).
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from Crypto.PublicKey import RSA
from flask import current_app
from peewee import IntegrityError

from app.clock import utcnow
from app.db import write_transaction
from app.errors import ApiError, NotFound, Unauthorized, UpstreamError
from app.models import Payment, PaymentNotice, User
from app.payments import books
from app.payments import service as payments
from app.payments.providers import ProviderError, ProviderNotFound, ProviderRefused, Submitted
from app.payments.wechatpay_crypto import (
    SignatureError,
    authorization,
    decrypt_resource,
    rsa_encrypt,
    rsa_sign,
    verify,
)

TRANSFER_PATH = "/v3/fund-app/mch-transfer/transfer-bills"
REAL_NAME_FROM = 200_000  # fen: from 2,000 yuan a transfer must carry the payee's real name
# transfer-bills states (§9.5) and what they mean for our payment
TRANSFER_STATES = {
    "ACCEPTED": "submitted",
    "PROCESSING": "submitted",
    "WAIT_USER_CONFIRM": "submitted",
    "TRANSFERING": "submitted",
    "CANCELING": "submitted",
    "SUCCESS": "succeeded",
    "FAIL": "failed",
    "CANCELLED": "cancelled",
}
JSAPI_PATH = "/v3/pay/transactions/jsapi"


@dataclass(frozen=True)
class WeChatPaySettings:
    mchid: str
    appid: str
    serial_no: str
    private_key: RSA.RsaKey
    platform_key: RSA.RsaKey
    platform_key_id: str
    apiv3_key: bytes
    api_base: str
    notify_url: str
    transfer_scene_id: str
    timeout: float


def _read_key(value: str, instance: str) -> RSA.RsaKey:
    """A PEM given inline, or a file name (relative to instance/)."""
    if "-----BEGIN" in value:
        return RSA.import_key(value)
    path = Path(value)
    if not path.is_absolute():
        path = Path(instance) / path
    return RSA.import_key(path.read_text())


def settings() -> WeChatPaySettings | None:
    """From the app's configuration; None when WeChat Pay is not configured."""
    cfg = current_app.config
    if not cfg.get("WECHATPAY_MCHID"):
        return None
    instance = cfg.get("INSTANCE_PATH") or current_app.instance_path
    return WeChatPaySettings(
        mchid=cfg["WECHATPAY_MCHID"],
        appid=cfg["WECHATPAY_APPID"],
        serial_no=cfg["WECHATPAY_SERIAL_NO"],
        private_key=_read_key(cfg["WECHATPAY_PRIVATE_KEY"], instance),
        platform_key=_read_key(cfg["WECHATPAY_PUBLIC_KEY"], instance),
        platform_key_id=cfg["WECHATPAY_PUBLIC_KEY_ID"],
        apiv3_key=cfg["WECHATPAY_APIV3_KEY"].encode(),
        api_base=cfg["WECHATPAY_API_BASE"].rstrip("/"),
        notify_url=cfg["WECHATPAY_NOTIFY_URL"],
        transfer_scene_id=cfg["WECHATPAY_TRANSFER_SCENE_ID"],
        timeout=float(cfg["WECHATPAY_TIMEOUT_SECONDS"]),
    )


class WeChatPayProvider:
    name = "wechatpay"

    def __init__(self, s: WeChatPaySettings) -> None:
        self.s = s

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        headers = {
            "Authorization": authorization(
                self.s.mchid,
                self.s.serial_no,
                self.s.private_key,
                method,
                path,
                text,
                int(time.time()),
            ),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Wechatpay-Serial": self.s.platform_key_id,
        }
        req = urllib.request.Request(
            self.s.api_base + path, data=text.encode() or None, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(req, timeout=self.s.timeout) as resp:
                raw, status, got = resp.read(), resp.status, dict(resp.headers)
        except urllib.error.HTTPError as e:
            raw, status, got = e.read(), e.code, dict(e.headers)
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            raise ProviderError(f"WeChat Pay unreachable: {e}") from None
        try:
            verify(got, raw, self.s.platform_key, self.s.platform_key_id, int(time.time()))
        except SignatureError as e:
            raise ProviderError(f"WeChat Pay answer not trusted: {e}") from None
        data = json.loads(raw or b"{}")
        if status >= 500 or status == 429:
            raise ProviderError(f"WeChat Pay {status}: {data.get('code')} {data.get('message')}")
        if status == 404:
            raise ProviderNotFound(f"WeChat Pay 404: {data.get('code')} {data.get('message')}")
        if status >= 400:
            raise ProviderRefused(f"WeChat Pay {status}: {data.get('code')} {data.get('message')}")
        return data

    def submit(self, payment: Payment) -> Submitted:
        openid = _openid(payment.payee)
        body: dict[str, Any] = {
            "appid": self.s.appid,
            "out_bill_no": payment.out_no,
            "transfer_scene_id": self.s.transfer_scene_id,
            "openid": openid,
            "transfer_amount": payment.amount,
            "transfer_remark": (payment.memo or "报销")[:32],
            "notify_url": self.s.notify_url,
            "transfer_scene_report_infos": [
                {"info_type": "报销类型", "info_content": (payment.memo or "报销")[:32]}
            ],
        }
        if payment.amount >= REAL_NAME_FROM:
            name = payment.payee_name.strip()
            if not name:
                raise ProviderRefused(
                    "WeChat Pay needs the payee's real name (payee_name) for 2,000 yuan or more"
                )
            body["user_name"] = rsa_encrypt(self.s.platform_key, name)
        return _state(self._call("POST", TRANSFER_PATH, body))

    def query(self, payment: Payment) -> Submitted:
        """Where the transfer stands (the answer a lost notification would have given)."""
        path = f"{TRANSFER_PATH}/out-bill-no/{payment.out_no}"
        try:
            data = self._call("GET", path, None)
        except ProviderRefused as e:  # even a 404: a payment is never given up on by a query
            raise ProviderError(str(e)) from None
        return _state(data)

    def cancel(self, payment: Payment) -> Submitted:
        """Withdraw a transfer the payee has not confirmed; WeChat answers CANCELING or
        CANCELLED, or refuses when the money already moved."""
        return _state(
            self._call("POST", f"{TRANSFER_PATH}/out-bill-no/{payment.out_no}/cancel", None)
        )


def _state(data: dict[str, Any]) -> Submitted:
    state = str(data.get("state", ""))
    status = TRANSFER_STATES.get(state)
    if status is None:
        raise ProviderError(f"WeChat Pay answered an unknown transfer state {state!r}")
    reason = f"WeChat Pay transfer {state}" + (
        f": {data['fail_reason']}" if data.get("fail_reason") else ""
    )
    return Submitted(
        status,
        str(data.get("transfer_bill_no", "")),
        reason if status != "submitted" else "",
        str(data.get("package_info", "")) if state == "WAIT_USER_CONFIRM" else "",
        state == "WAIT_USER_CONFIRM",
    )


def create_jsapi_order(
    business_id: int, amount: int, reference: str, openid: str, description: str
) -> dict[str, Any]:
    """A JSAPI (mini-program) order and the parameters for wx.requestPayment (§9.4).

    The order number carries the business (`SP<business>X...`) and `attach` the reference, so
    the TRANSACTION.SUCCESS notification becomes this business's `payment.received`.
    """
    s = settings()
    if s is None:
        raise NotFound("WeChat Pay is not configured", code="wechatpay_not_configured")
    out_trade_no = f"SP{business_id}X{secrets.token_hex(16)}"[:32]
    body = {
        "appid": s.appid,
        "mchid": s.mchid,
        "description": description[:127],
        "out_trade_no": out_trade_no,
        "notify_url": s.notify_url,
        "attach": reference,
        "amount": {"total": amount, "currency": "CNY"},
        "payer": {"openid": openid},
    }
    try:
        data = WeChatPayProvider(s)._call("POST", JSAPI_PATH, body)
    except (ProviderError, ProviderRefused) as e:
        raise UpstreamError(str(e), code="wechatpay_error") from None
    package = f"prepay_id={data.get('prepay_id', '')}"
    ts, nonce = str(int(time.time())), secrets.token_hex(16)
    return {
        "out_trade_no": out_trade_no,
        "appId": s.appid,
        "timeStamp": ts,
        "nonceStr": nonce,
        "package": package,
        "signType": "RSA",
        "paySign": rsa_sign(s.private_key, f"{s.appid}\n{ts}\n{nonce}\n{package}\n"),
    }


def _openid(payee: str) -> str:
    """Payees are `openid:<id>` or `user:<id>` (a member who logged in with WeChat)."""
    if payee.startswith("openid:"):
        return payee.removeprefix("openid:")
    if payee.startswith("user:") and payee[5:].isdigit():
        user = User.get_or_none(User.id == int(payee[5:]))
        if user is not None and user.wechat_openid:
            return user.wechat_openid
        raise ProviderRefused(f"{payee} has not logged in with WeChat: no openid to pay")
    raise ProviderRefused(f"WeChat Pay cannot pay {payee!r}: an openid is needed")


def provider() -> WeChatPayProvider | None:
    s = settings()
    return WeChatPayProvider(s) if s is not None else None


def handle_notification(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Verify, refuse replays, decrypt and apply one WeChat Pay notification."""
    s = settings()
    if s is None:
        raise NotFound("WeChat Pay is not configured", code="wechatpay_not_configured")
    try:
        verify(headers, body, s.platform_key, s.platform_key_id, int(time.time()))
        envelope = json.loads(body)
        resource = json.loads(decrypt_resource(envelope["resource"], s.apiv3_key))
        notice_id = str(envelope["id"])
        event_type = str(envelope["event_type"])
    except (SignatureError, ValueError, KeyError, TypeError) as e:
        raise Unauthorized(f"notification refused: {e}", code="notification_refused") from None
    try:
        with write_transaction():
            PaymentNotice.create(
                provider="wechatpay", notice_id=notice_id[:64], received_at=utcnow(), body=""
            )
            result = _apply(event_type, resource)
    except IntegrityError:
        raise Unauthorized(
            "notification already received (replay)", code="notification_replayed"
        ) from None
    return {"code": "SUCCESS", "message": "", "applied": result}


def _business_of(out_no: str) -> int:
    """Our order numbers are SP<business>X<random>."""
    from app.models import Business

    head = out_no[2 : out_no.find("X")] if out_no.startswith("SP") else ""
    if not head.isdigit() or Business.get_or_none(Business.id == int(head)) is None:
        raise ApiError("unknown order number", code="unknown_order", status=422)
    return int(head)


def _apply(event_type: str, r: dict[str, Any]) -> str:
    if event_type.startswith("MCHTRANSFER."):
        p = Payment.get_or_none(Payment.out_no == r.get("out_bill_no"))
        if p is None:
            raise ApiError("unknown transfer", code="unknown_order", status=422)
        try:
            result = _state(r)
        except ProviderError as e:
            raise ApiError(str(e), code="unknown_state", status=422) from None
        if result.status == "submitted":
            return "ignored"
        payments.apply_state(p.business_id, p.id, result)
        return result.status
    if event_type == "TRANSACTION.SUCCESS":
        bid = _business_of(r.get("out_trade_no", ""))
        total = int(r.get("amount", {}).get("total", 0))
        books.record_received(
            bid,
            None,
            total,
            reference=str(r.get("attach", ""))[:64],
            payer="openid:" + str(r.get("payer", {}).get("openid", "")),
            method="wechatpay",
            provider_ref=str(r.get("transaction_id", "")),
        )
        return "received"
    return "ignored"
