"""Bills (payables), receivables, and money received by hand (docs/contracts.md)."""

from __future__ import annotations

from typing import Any

from flask import g
from pydantic import Field

from app.api.routing import date_param, route
from app.api.schemas import AMOUNT, DATE, Body
from app.money import parse_amount
from app.payments import books


class BillBody(Body):
    supplier: str = Field(min_length=1, max_length=100)
    payee: str = Field(default="", max_length=100, description="supplier's payee id, if any")
    amount: str = Field(pattern=AMOUNT, max_length=32)
    due_date: str = Field(pattern=DATE)
    reference: str = Field(default="", max_length=64)
    memo: str = Field(default="", max_length=200)


class ReceivableBody(Body):
    customer: str = Field(min_length=1, max_length=100)
    amount: str = Field(pattern=AMOUNT, max_length=32)
    reference: str = Field(min_length=1, max_length=64)
    due_date: str | None = Field(default=None, pattern=DATE)
    memo: str = Field(default="", max_length=200)


class ReceivedBody(Body):
    amount: str = Field(pattern=AMOUNT, max_length=32)
    reference: str = Field(default="", max_length=64)
    payer: str = Field(default="", max_length=100)


class EmptyBody(Body):
    pass


@route(
    "/businesses/<int:business_id>/bills",
    "GET",
    summary="Bills (payables) by due date",
    tag="bills",
    action="read_payments",
)
def list_bills(business_id: int) -> dict[str, Any]:
    return {"items": books.list_bills(business_id)}


@route(
    "/businesses/<int:business_id>/bills",
    "POST",
    summary="Record a supplier's bill (open until approved)",
    tag="bills",
    body=BillBody,
    action="manage_bills",
    status=201,
    errors=[422],
)
def create_bill(business_id: int, body: BillBody) -> dict[str, Any]:
    return books.create_bill(
        business_id,
        g.user_id,
        supplier=body.supplier,
        payee=body.payee,
        amount=parse_amount(body.amount),
        due_date=date_param(body.due_date, "due_date"),
        reference=body.reference,
        memo=body.memo,
    )


@route(
    "/businesses/<int:business_id>/bills/<int:bill_id>/approve",
    "POST",
    summary="Approve a bill: contracts may pay it on its due day",
    tag="bills",
    body=EmptyBody,
    action="approve_payments",
    errors=[404, 409],
)
def approve_bill(business_id: int, bill_id: int, body: EmptyBody) -> dict[str, Any]:
    return books.approve_bill(business_id, bill_id, g.user_id)


@route(
    "/businesses/<int:business_id>/receivables",
    "GET",
    summary="Receivables",
    tag="bills",
    action="read_payments",
)
def list_receivables(business_id: int) -> dict[str, Any]:
    return {"items": books.list_receivables(business_id)}


@route(
    "/businesses/<int:business_id>/receivables",
    "POST",
    summary="Record what a customer owes, with the reference their payment will carry",
    tag="bills",
    body=ReceivableBody,
    action="manage_bills",
    status=201,
    errors=[422],
)
def create_receivable(business_id: int, body: ReceivableBody) -> dict[str, Any]:
    return books.create_receivable(
        business_id,
        g.user_id,
        customer=body.customer,
        amount=parse_amount(body.amount),
        reference=body.reference,
        due_date=date_param(body.due_date, "due_date"),
        memo=body.memo,
    )


@route(
    "/businesses/<int:business_id>/payments/received",
    "POST",
    summary="Money arrived outside the app: a payment.received event for contracts",
    tag="bills",
    body=ReceivedBody,
    action="manage_bills",
    status=201,
)
def record_received(business_id: int, body: ReceivedBody) -> dict[str, Any]:
    amount = parse_amount(body.amount)
    books.record_received(business_id, g.user_id, amount, body.reference, body.payer, "manual")
    return {"amount": body.amount, "reference": body.reference, "payer": body.payer}
