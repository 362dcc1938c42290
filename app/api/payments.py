"""Payments: list, approve, cancel, mark paid (manual) (docs/contracts.md)."""

from __future__ import annotations

from typing import Any, Literal

from flask import g
from pydantic import Field

from app.api.routing import route
from app.api.schemas import AMOUNT, Body, Query
from app.errors import Unprocessable
from app.money import parse_amount
from app.payments import service


class PaymentsQuery(Query):
    status: (
        Literal["created", "awaiting_approval", "submitted", "succeeded", "failed", "cancelled"]
        | None
    ) = None


class EmptyBody(Body):
    pass


class CancelBody(Body):
    reason: str = Field(default="", max_length=200)


class MarkPaidBody(Body):
    reference: str = Field(
        min_length=1, max_length=100, description="the bank's or app's reference"
    )


@route(
    "/businesses/<int:business_id>/payments",
    "GET",
    summary="Payments, newest first; status=awaiting_approval is the approval queue",
    tag="payments",
    query=PaymentsQuery,
    action="read_payments",
)
def list_payments(business_id: int, query: PaymentsQuery) -> dict[str, Any]:
    return {"items": service.list_payments(business_id, query.status)}


@route(
    "/businesses/<int:business_id>/payments/<int:payment_id>",
    "GET",
    summary="One payment",
    tag="payments",
    action="read_payments",
)
def get_payment(business_id: int, payment_id: int) -> dict[str, Any]:
    return service.get_payment(business_id, payment_id)


@route(
    "/businesses/<int:business_id>/payments/<int:payment_id>/approve",
    "POST",
    summary="Approve a payment awaiting approval (by one of the roles it names); submits it",
    tag="payments",
    body=EmptyBody,
    action="approve_payments",
    errors=[403, 404, 409],
)
def approve_payment(business_id: int, payment_id: int, body: EmptyBody) -> dict[str, Any]:
    return service.approve(business_id, payment_id, g.user_id, g.membership.role)


@route(
    "/businesses/<int:business_id>/payments/<int:payment_id>/cancel",
    "POST",
    summary="Cancel (reject) a payment; one already at WeChat Pay is withdrawn there first",
    tag="payments",
    body=CancelBody,
    action="approve_payments",
    errors=[404, 409],
)
def cancel_payment(business_id: int, payment_id: int, body: CancelBody) -> dict[str, Any]:
    return service.cancel(business_id, payment_id, g.user_id, body.reason)


@route(
    "/businesses/<int:business_id>/payments/<int:payment_id>/mark-paid",
    "POST",
    summary="Manual payments: paid outside the app, with its reference; posts the entry",
    tag="payments",
    body=MarkPaidBody,
    action="pay_manual",
    errors=[404, 409],
)
def mark_paid(business_id: int, payment_id: int, body: MarkPaidBody) -> dict[str, Any]:
    return service.mark_paid(business_id, payment_id, g.user_id, body.reference)


@route(
    "/businesses/<int:business_id>/payments/to-confirm",
    "GET",
    summary="The caller's own WeChat transfers waiting for them to accept, with the "
    "wx.requestMerchantTransfer parameters",
    tag="payments",
    action="receive_payments",
)
def payments_to_confirm(business_id: int) -> dict[str, Any]:
    return {"items": service.to_confirm(business_id, g.user_id)}


@route(
    "/businesses/<int:business_id>/payments/<int:payment_id>/refresh",
    "POST",
    summary="Ask the provider where a submitted payment stands now (the payee or whoever pays)",
    tag="payments",
    body=EmptyBody,
    action="receive_payments",
    errors=[404, 502],
)
def refresh_payment(business_id: int, payment_id: int, body: EmptyBody) -> dict[str, Any]:
    return service.refresh(business_id, payment_id, g.user_id, g.membership.role)


class CollectBody(Body):
    amount: str = Field(pattern=AMOUNT, max_length=32)
    reference: str = Field(min_length=1, max_length=64, description="matches a receivable")
    openid: str | None = Field(default=None, max_length=128, description="default: the caller's")
    description: str = Field(default="货款", max_length=127)


@route(
    "/businesses/<int:business_id>/payments/collect",
    "POST",
    summary="WeChat Pay JSAPI: create an order, get the wx.requestPayment parameters",
    tag="payments",
    body=CollectBody,
    action="manage_bills",
    status=201,
    errors=[404, 422, 502],
)
def collect(business_id: int, body: CollectBody) -> dict[str, Any]:
    from app.models import User
    from app.payments import wechatpay

    openid = body.openid or (User.get_by_id(g.user_id).wechat_openid or "")
    if not openid:
        raise Unprocessable("openid: the payer's WeChat openid is needed", code="no_openid")
    return wechatpay.create_jsapi_order(
        business_id, parse_amount(body.amount), body.reference, openid, body.description
    )


@route(
    "/payments/wechatpay/notify",
    "POST",
    summary="WeChat Pay notifications: signature, freshness and replay checked, resource "
    "decrypted (no login: WeChat Pay calls it)",
    tag="payments",
    auth=False,
    errors=[401, 404, 422],
)
def wechatpay_notify() -> dict[str, Any]:
    from flask import request

    from app.payments import wechatpay

    return wechatpay.handle_notification(dict(request.headers), request.get_data(cache=True))
