"""Per-business claim policy and the flags it raises (issue §6; product-anchors §4.1/§4.5).

A flag is yellow (`warn`: shown to the approver) or red (`block`: the claim cannot be submitted),
as the business configures each check; `off` turns a check off. Some flags are always yellow
because they are facts about the evidence, not policy: a receipt without a readable fapiao QR,
the same photo filed before, an amount that differs from what the QR says.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import chinese_calendar

from app.clock import utcnow
from app.db import write_transaction
from app.errors import Unprocessable
from app.models import Business, Claim, ClaimPolicy, Receipt
from app.money import format_fen, parse_amount

SEVERITIES = ("off", "warn", "block")

DEFAULTS: dict[str, Any] = {
    # Above this amount the owner must approve as well (a bookkeeper's approval is step one).
    "approval_limit": "2000.00",
    # Per-category limit per claim, and how a claim over it is treated.
    "category_limits": {},
    "category_limit_severity": "warn",
    "no_invoice_severity": "warn",
    "max_invoice_age_days": 180,
    "invoice_age_severity": "warn",
    "buyer_mismatch_severity": "block",
    "weekend_holiday_severity": "warn",
}


@dataclass(frozen=True)
class Policy:
    approval_limit: int | None
    category_limits: dict[str, int]
    category_limit_severity: str
    no_invoice_severity: str
    max_invoice_age_days: int | None
    invoice_age_severity: str
    buyer_mismatch_severity: str
    weekend_holiday_severity: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "approval_limit": format_fen(self.approval_limit)
            if self.approval_limit is not None
            else None,
            "category_limits": {k: format_fen(v) for k, v in sorted(self.category_limits.items())},
            "category_limit_severity": self.category_limit_severity,
            "no_invoice_severity": self.no_invoice_severity,
            "max_invoice_age_days": self.max_invoice_age_days,
            "invoice_age_severity": self.invoice_age_severity,
            "buyer_mismatch_severity": self.buyer_mismatch_severity,
            "weekend_holiday_severity": self.weekend_holiday_severity,
        }


def _build(settings: dict[str, Any]) -> Policy:
    """Validate settings (decimal strings for money, known severities) into a Policy."""
    s = {**DEFAULTS, **settings}
    unknown = set(s) - set(DEFAULTS)
    if unknown:
        raise Unprocessable(f"unknown policy setting: {sorted(unknown)[0]}", code="unknown_field")
    for key in DEFAULTS:
        if key.endswith("_severity") and s[key] not in SEVERITIES:
            raise Unprocessable(f"{key}: one of {', '.join(SEVERITIES)}", code="invalid_field")
    limit = s["approval_limit"]
    limits = s["category_limits"]
    if not isinstance(limits, dict):
        raise Unprocessable("category_limits: an object of amounts", code="invalid_field")
    age = s["max_invoice_age_days"]
    if age is not None and (not isinstance(age, int) or isinstance(age, bool) or age < 1):
        raise Unprocessable("max_invoice_age_days: a positive integer", code="invalid_field")
    return Policy(
        approval_limit=parse_amount(limit, "approval_limit") if limit is not None else None,
        category_limits={
            str(k): parse_amount(v, f"category_limits.{k}") for k, v in limits.items()
        },
        category_limit_severity=s["category_limit_severity"],
        no_invoice_severity=s["no_invoice_severity"],
        max_invoice_age_days=age,
        invoice_age_severity=s["invoice_age_severity"],
        buyer_mismatch_severity=s["buyer_mismatch_severity"],
        weekend_holiday_severity=s["weekend_holiday_severity"],
    )


def load_policy(business_id: int) -> Policy:
    row = ClaimPolicy.get_or_none(ClaimPolicy.business == business_id)
    return _build(json.loads(row.settings) if row else {})


def update_policy(business_id: int, changes: dict[str, Any]) -> Policy:
    with write_transaction():
        row = ClaimPolicy.get_or_none(ClaimPolicy.business == business_id)
        current = json.loads(row.settings) if row else {}
        merged = {**current, **changes}
        policy = _build(merged)  # refuses before anything is written
        text = json.dumps(policy.as_dict(), ensure_ascii=False, sort_keys=True)
        if row is None:
            ClaimPolicy.create(business=business_id, settings=text, updated_at=utcnow())
        else:
            ClaimPolicy.update(settings=text, updated_at=utcnow()).where(
                ClaimPolicy.business == business_id
            ).execute()
    return policy


def _flag(code: str, severity: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "severity": severity, "message": zh, "message_en": en, **extra}


def _rest_day(day: dt.date) -> bool:
    """Weekend or statutory holiday, with 调休 workdays counted as workdays where known."""
    try:
        return bool(chinese_calendar.is_holiday(day))
    except NotImplementedError:  # years the calendar package does not cover yet
        return day.weekday() >= 5


def flags_for(
    claim: Claim, receipts: list[Receipt], today: dt.date, policy: Policy | None = None
) -> list[dict[str, Any]]:
    """Every flag the claim raises now, yellow and red, in a stable order."""
    policy = policy or load_policy(claim.business_id)
    out: list[dict[str, Any]] = []
    for r in receipts:
        if r.qr_raw is None or r.invoice_key is None:
            out.append(
                _flag(
                    "no_qr",
                    "warn",
                    f"收据 #{r.id} 未识别到发票二维码，金额、日期和销售方为手工填写",
                    f"Receipt #{r.id}: no fapiao QR read; amount, date and seller were typed",
                    receipt_id=r.id,
                )
            )
        dup = (
            Receipt.select(Receipt.id)
            .where(
                (Receipt.business == claim.business_id)
                & (Receipt.id != r.id)
                & ((Receipt.sha256 == r.sha256) | (Receipt.original_sha256 == r.original_sha256))
            )
            .first()
        )
        if dup is not None:
            out.append(
                _flag(
                    "duplicate_photo",
                    "warn",
                    f"收据 #{r.id} 与收据 #{dup.id} 是同一张照片",
                    f"Receipt #{r.id} is the same photo as receipt #{dup.id}",
                    receipt_id=r.id,
                    other_receipt_id=dup.id,
                )
            )
    invoiced = [r for r in receipts if r.invoice_key]
    if not invoiced and policy.no_invoice_severity != "off":
        out.append(
            _flag(
                "no_invoice",
                policy.no_invoice_severity,
                "没有发票",
                "No invoice (fapiao) for this claim",
            )
        )
    if invoiced and len(invoiced) == len(receipts):
        qr_total = sum(r.amount or 0 for r in invoiced)
        excl = any(r.amount_basis == "excl_tax" for r in invoiced)
        if claim.amount < qr_total or (not excl and claim.amount != qr_total):
            out.append(
                _flag(
                    "amount_differs",
                    "warn",
                    f"报销金额 {format_fen(claim.amount)} 与发票二维码金额 {format_fen(qr_total)} 不一致",
                    f"Claimed {format_fen(claim.amount)}, the invoice QR says {format_fen(qr_total)}",
                )
            )
    cap = policy.category_limits.get(claim.category_key)
    if cap is not None and claim.amount > cap and policy.category_limit_severity != "off":
        out.append(
            _flag(
                "over_category_limit",
                policy.category_limit_severity,
                f"超过该类别限额 {format_fen(cap)}",
                f"Over the category limit of {format_fen(cap)}",
                limit=format_fen(cap),
            )
        )
    if policy.max_invoice_age_days and policy.invoice_age_severity != "off":
        oldest = min((r.invoice_date for r in receipts if r.invoice_date), default=None)
        if oldest is not None and (today - oldest).days > policy.max_invoice_age_days:
            out.append(
                _flag(
                    "invoice_too_old",
                    policy.invoice_age_severity,
                    f"发票开具于 {oldest.isoformat()}，超过 {policy.max_invoice_age_days} 天",
                    f"Invoice dated {oldest.isoformat()}, older than "
                    f"{policy.max_invoice_age_days} days",
                )
            )
    if policy.buyer_mismatch_severity != "off":
        uscc = (Business.get_by_id(claim.business_id).uscc or "").upper()
        for r in receipts:
            if r.buyer_tax_id and r.buyer_tax_id.upper() != uscc:
                out.append(
                    _flag(
                        "buyer_mismatch",
                        policy.buyer_mismatch_severity,
                        f"发票购买方税号 {r.buyer_tax_id} 不是本企业",
                        f"The invoice buyer's tax ID {r.buyer_tax_id} is not this business",
                        receipt_id=r.id,
                    )
                )
    if policy.weekend_holiday_severity != "off":
        days = sorted({r.invoice_date for r in receipts if r.invoice_date} | {claim.expense_date})
        rest = [d for d in days if _rest_day(d)]
        if rest:
            out.append(
                _flag(
                    "weekend_holiday",
                    policy.weekend_holiday_severity,
                    f"周末或节假日消费：{rest[0].isoformat()}",
                    f"Spent on a weekend or holiday: {rest[0].isoformat()}",
                )
            )
    return out
