"""Expense claims and approvals, and the business's claim policy (docs/receipts.md)."""

from __future__ import annotations

from typing import Any, Literal

from flask import g
from pydantic import Field

from app.api.routing import date_param, route
from app.api.schemas import AMOUNT, DATE, Body, PaidWith, Query
from app.money import parse_amount
from app.receipts import policy
from app.services import claims
from app.services.claims import ClaimInput

Status = Literal["draft", "submitted", "returned", "approved", "rejected", "paid"]


class ClaimBody(Body):
    category: str = Field(min_length=1, max_length=32)
    amount: str = Field(pattern=AMOUNT, max_length=32, description='decimal string, e.g. "35.50"')
    receipts: list[int] = Field(min_length=1, max_length=20)
    memo: str = Field(default="", max_length=200)
    project: str = Field(default="", max_length=64)
    date: str | None = Field(default=None, pattern=DATE)
    seller: str | None = Field(default=None, max_length=100)
    buyer_tax_id: str | None = Field(default=None, max_length=20)
    submit: bool = False


class ClaimUpdateBody(Body):
    category: str | None = Field(default=None, min_length=1, max_length=32)
    amount: str | None = Field(default=None, pattern=AMOUNT, max_length=32)
    receipts: list[int] | None = Field(default=None, min_length=1, max_length=20)
    memo: str | None = Field(default=None, max_length=200)
    project: str | None = Field(default=None, max_length=64)
    date: str | None = Field(default=None, pattern=DATE)
    seller: str | None = Field(default=None, max_length=100)
    buyer_tax_id: str | None = Field(default=None, max_length=20)


class ApproveBody(Body):
    tax_amount: str | None = Field(
        default=None, pattern=AMOUNT, description="input VAT to book to 22210101"
    )
    date: str | None = Field(default=None, pattern=DATE)


class ReasonBody(Body):
    reason: str = Field(min_length=1, max_length=200)


class ReimburseBody(Body):
    paid_with: PaidWith
    date: str | None = Field(default=None, pattern=DATE)


class ClaimsQuery(Query):
    status: Status | None = None
    mine: Literal["true", "false"] = "false"
    awaiting: Literal["true", "false"] = "false"


class PolicyBody(Body):
    approval_limit: str | None = Field(default=None, pattern=AMOUNT)
    category_limits: dict[str, str] | None = None
    category_limit_severity: Literal["off", "warn", "block"] | None = None
    no_invoice_severity: Literal["off", "warn", "block"] | None = None
    max_invoice_age_days: int | None = Field(default=None, ge=1, le=3650)
    invoice_age_severity: Literal["off", "warn", "block"] | None = None
    buyer_mismatch_severity: Literal["off", "warn", "block"] | None = None
    weekend_holiday_severity: Literal["off", "warn", "block"] | None = None


def _input(body: ClaimBody | ClaimUpdateBody) -> ClaimInput:
    return ClaimInput(
        category=body.category,
        amount=parse_amount(body.amount) if body.amount is not None else None,
        memo=body.memo,
        project=body.project,
        date=date_param(body.date),
        receipts=body.receipts,
        seller=body.seller,
        buyer_tax_id=body.buyer_tax_id,
    )


def _role() -> str:
    return g.membership.role


@route(
    "/businesses/<int:business_id>/claims",
    "GET",
    summary="Claims: an employee's own, or all (approvers); awaiting=true is the approval queue",
    tag="claims",
    action="read_claims",
    query=ClaimsQuery,
)
def list_claims(business_id: int, query: ClaimsQuery) -> dict[str, Any]:
    return claims.list_claims(
        business_id,
        g.user_id,
        _role(),
        query.status,
        query.mine == "true",
        query.awaiting == "true",
    )


@route(
    "/businesses/<int:business_id>/claims",
    "POST",
    summary="File a claim from receipts (draft, or submitted with submit=true)",
    tag="claims",
    body=ClaimBody,
    action="file_claims",
    status=201,
    errors=[404, 409, 422],
)
def create_claim(business_id: int, body: ClaimBody) -> dict[str, Any]:
    return claims.create_claim(business_id, g.user_id, _role(), _input(body), submit=body.submit)


@route(
    "/businesses/<int:business_id>/claims/<int:claim_id>",
    "GET",
    summary="A claim with its receipts, flags and history",
    tag="claims",
    action="read_claims",
)
def get_claim(business_id: int, claim_id: int) -> dict[str, Any]:
    return claims.get_claim(business_id, claim_id, g.user_id, _role())


@route(
    "/businesses/<int:business_id>/claims/<int:claim_id>",
    "POST",
    summary="Change a draft or returned claim (its employee only)",
    tag="claims",
    body=ClaimUpdateBody,
    action="file_claims",
    errors=[403, 404, 409, 422],
)
def update_claim(business_id: int, claim_id: int, body: ClaimUpdateBody) -> dict[str, Any]:
    return claims.update_claim(business_id, claim_id, g.user_id, _role(), _input(body))


@route(
    "/businesses/<int:business_id>/claims/<int:claim_id>/submit",
    "POST",
    summary="Submit a claim for approval (refused while a red policy flag stands)",
    tag="claims",
    action="file_claims",
    errors=[403, 404, 409, 422],
)
def submit_claim(business_id: int, claim_id: int) -> dict[str, Any]:
    return claims.submit_claim(business_id, claim_id, g.user_id, _role())


@route(
    "/businesses/<int:business_id>/claims/<int:claim_id>/approve",
    "POST",
    summary="Approve: posts Dr expense (+ input VAT), Cr 其他应付款—employee",
    tag="claims",
    body=ApproveBody,
    action="approve_claims",
    errors=[403, 404, 409, 422],
)
def approve_claim(business_id: int, claim_id: int, body: ApproveBody) -> dict[str, Any]:
    tax = parse_amount(body.tax_amount, "tax_amount", True) if body.tax_amount else None
    return claims.approve_claim(
        business_id, claim_id, g.user_id, _role(), tax, date_param(body.date)
    )


@route(
    "/businesses/<int:business_id>/claims/<int:claim_id>/reject",
    "POST",
    summary="Reject a claim, with a reason",
    tag="claims",
    body=ReasonBody,
    action="approve_claims",
    errors=[403, 404, 409, 422],
)
def reject_claim(business_id: int, claim_id: int, body: ReasonBody) -> dict[str, Any]:
    return claims.reject_claim(business_id, claim_id, g.user_id, _role(), body.reason)


@route(
    "/businesses/<int:business_id>/claims/<int:claim_id>/return",
    "POST",
    summary="Send a claim back to the employee for changes, with a reason",
    tag="claims",
    body=ReasonBody,
    action="approve_claims",
    errors=[403, 404, 409, 422],
)
def return_claim(business_id: int, claim_id: int, body: ReasonBody) -> dict[str, Any]:
    return claims.return_claim(business_id, claim_id, g.user_id, _role(), body.reason)


@route(
    "/businesses/<int:business_id>/claims/<int:claim_id>/reimburse",
    "POST",
    summary="Pay an approved claim: Dr 其他应付款—employee, Cr cash/bank/WeChat/Alipay",
    tag="claims",
    body=ReimburseBody,
    action="post",
    errors=[404, 409, 422],
)
def reimburse_claim(business_id: int, claim_id: int, body: ReimburseBody) -> dict[str, Any]:
    return claims.reimburse_claim(
        business_id, claim_id, g.user_id, _role(), body.paid_with, date_param(body.date)
    )


@route(
    "/businesses/<int:business_id>/claim-policy",
    "GET",
    summary="Approval limit and policy flags (yellow/red) of the business",
    tag="claims",
    action="read",
)
def get_policy(business_id: int) -> dict[str, Any]:
    return policy.load_policy(business_id).as_dict()


@route(
    "/businesses/<int:business_id>/claim-policy",
    "POST",
    summary="Change the approval limit and policy flags (owners)",
    tag="claims",
    body=PolicyBody,
    action="edit_business",
    errors=[422],
)
def set_policy(business_id: int, body: PolicyBody) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    return policy.update_policy(business_id, changes).as_dict()
