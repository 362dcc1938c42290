"""Tax warnings: list and acknowledge, run a check now, the tax profile, invoice references,
WeChat subscription credits, and the loaded rule packs."""

from __future__ import annotations

from typing import Any, Literal

from flask import g
from pydantic import Field

from app.api.routing import date_param, route
from app.api.schemas import AMOUNT, DATE, Body, Query
from app.clock import business_today
from app.errors import Unprocessable
from app.money import parse_amount
from app.tax import profile as tax_profile
from app.tax import registry, service
from app.tax.notify import add_credit

ACCEPTED = ("accept", "acceptWithAudio")


class WarningsQuery(Query):
    state: Literal["active", "open", "acknowledged", "resolved", "all"] = "active"


class AcknowledgeBody(Body):
    ids: list[int] = Field(min_length=1, max_length=200)


class CheckBody(Body):
    date: str | None = Field(
        default=None, pattern=DATE, description="business date to check as of; default today"
    )


class ProfileBody(Body):
    vat_filing_basis: Literal["monthly", "quarterly"] | None = None
    cit_payer: bool | None = None
    vat_burden_benchmark: str | None = Field(
        default=None,
        pattern=r"^(0|[1-9][0-9]?)(\.[0-9]{1,2})?$",
        description='percent as a decimal string, e.g. "1.50"; "" is not allowed, use clear',
    )
    clear_vat_burden_benchmark: bool = False


class InvoiceBody(Body):
    code: str | None = Field(default=None, max_length=12, description="发票代码 (legacy only)")
    number: str = Field(min_length=8, max_length=20, description="发票号码 or 20-digit 数电票号码")
    amount: str | None = Field(default=None, max_length=32, pattern=AMOUNT)


class SubscriptionBody(Body):
    results: dict[str, str] = Field(
        min_length=1,
        max_length=5,
        description="wx.requestSubscribeMessage's result: template id -> accept | reject | ...",
    )


@route(
    "/businesses/<int:business_id>/tax/warnings",
    "GET",
    summary="Tax warnings with severity, figures, entries, legal basis (zh-CN and English)",
    tag="tax",
    query=WarningsQuery,
    action="read_tax",
)
def list_tax_warnings(business_id: int, query: WarningsQuery) -> dict[str, Any]:
    return {
        "state": query.state,
        "counts": service.counts(business_id),
        "items": service.list_warnings(business_id, query.state),
    }


@route(
    "/businesses/<int:business_id>/tax/warnings/acknowledge",
    "POST",
    summary="Acknowledge tax warnings (they stay listed until resolved)",
    tag="tax",
    body=AcknowledgeBody,
    action="manage_tax",
    errors=[409],
)
def acknowledge_tax_warnings(business_id: int, body: AcknowledgeBody) -> dict[str, Any]:
    return {"items": service.acknowledge(business_id, body.ids, g.user_id)}


@route(
    "/businesses/<int:business_id>/tax/check",
    "POST",
    summary="Run every tax rule for this business now (as the daily job does)",
    tag="tax",
    body=CheckBody,
    action="manage_tax",
)
def run_tax_check(business_id: int, body: CheckBody) -> dict[str, Any]:
    day = date_param(body.date) or business_today()
    s = service.check_business(business_id, day)
    return {
        "as_of": day.isoformat(),
        "opened": s.opened,
        "updated": s.updated,
        "resolved": s.resolved,
        "firing": s.firing,
    }


@route(
    "/businesses/<int:business_id>/tax/profile",
    "GET",
    summary="Tax profile: VAT filing basis, CIT payer, VAT-burden benchmark",
    tag="tax",
    action="read_tax",
)
def get_tax_profile(business_id: int) -> dict[str, Any]:
    return tax_profile.profile_dict(business_id)


@route(
    "/businesses/<int:business_id>/tax/profile",
    "POST",
    summary="Change the tax profile",
    tag="tax",
    body=ProfileBody,
    action="edit_tax_profile",
)
def update_tax_profile(business_id: int, body: ProfileBody) -> dict[str, Any]:
    bp = None
    if body.vat_burden_benchmark is not None:
        whole, _, frac = body.vat_burden_benchmark.partition(".")
        bp = int(whole) * 100 + int((frac + "00")[:2])
        if bp == 0:
            raise Unprocessable("vat_burden_benchmark must be above zero", code="invalid_benchmark")
    return tax_profile.update_profile(
        business_id, body.vat_filing_basis, body.cit_payer, bp, body.clear_vat_burden_benchmark
    )


@route(
    "/businesses/<int:business_id>/entries/<int:entry_id>/invoices",
    "POST",
    summary="Attach a fapiao reference to an entry (duplicates are reported)",
    tag="tax",
    body=InvoiceBody,
    action="post",
    status=201,
    errors=[409],
)
def attach_invoice(business_id: int, entry_id: int, body: InvoiceBody) -> dict[str, Any]:
    amount = parse_amount(body.amount) if body.amount is not None else None
    return tax_profile.attach_invoice(
        business_id, entry_id, body.code, body.number, amount, g.user_id
    )


@route(
    "/me/wechat-subscriptions",
    "POST",
    summary="Record wx.requestSubscribeMessage results: each accept is one message credit",
    tag="tax",
    body=SubscriptionBody,
)
def record_subscriptions(body: SubscriptionBody) -> dict[str, Any]:
    items = []
    for template_id, result in sorted(body.results.items()):
        if not 1 <= len(template_id) <= 128:
            raise Unprocessable("template id: 1 to 128 characters", code="invalid_template_id")
        if result in ACCEPTED:
            row = add_credit(g.user_id, template_id)
            items.append({"template_id": template_id, "credits": row.credits})
    return {"items": items}


@route("/tax/rules", "GET", summary="The loaded tax rule packs", tag="tax")
def list_tax_rules() -> dict[str, Any]:
    return {
        "packs": [
            {
                "id": p.id,
                "version": p.version,
                "jurisdiction": p.jurisdiction,
                "title": p.title,
                "rules": [
                    {
                        "id": r.id,
                        "metric": r.metric,
                        "title": r.title,
                        "valid_from": r.valid_from,
                        "valid_to": r.valid_to,
                        "taxpayer_types": list(r.taxpayer_types),
                        "basis": r.basis,
                        "unconfirmed": r.unconfirmed,
                    }
                    for r in p.rules
                ],
            }
            for p in registry.packs()
        ]
    }
