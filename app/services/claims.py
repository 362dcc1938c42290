"""Expense claims: draft -> submitted -> approved -> paid, or returned / rejected.

- Employees file claims for themselves from their own receipts; they see only their claims.
- Owners and bookkeepers approve, reject (with a reason) or send back for changes. Nobody but the
  owner approves their own claim. Above the business's approval limit a bookkeeper's approval is
  the first of two steps and the owner's completes it; the owner alone is always enough.
- Approval posts through the one posting function (`post_entry`): Dr the category's account (and
  for a special VAT invoice 01/08/31 of a general taxpayer, Dr 22210101 进项税额 for the tax part),
  Cr 其他应付款—<employee>. Each invoice on the claim is recorded on the entry as an
  `entry_invoice` reference (docs/tax-rules.md), so `cn.risk.duplicate_fapiao` and
  `cn.risk.expense_without_invoice` read real data.
- Reimbursement posts Dr 其他应付款—<employee>, Cr cash/bank/WeChat/Alipay and marks it paid.

其他应付款—<employee>: on an employee's first approved claim a sub-account of 2241 named after them
is created (`create_sub_account`) and remembered in `employee_payable`. A business whose 2241
already carries postings and has no sub-accounts cannot get children (the chart's rule), so there
the claim posts to 2241 itself with the employee's name in the line memo.

Every transition emits a ledger event in its transaction (claim.submitted / approved / rejected /
returned / reimbursed), so the chain records who decided what, and when, and why.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from app.chart import PAYMENT_ACCOUNTS
from app.clock import business_today, iso_utc, utcnow
from app.db import write_transaction
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.events import LedgerEvent, emit
from app.fapiao import SPECIAL_KINDS
from app.models import (
    Account,
    Business,
    Category,
    Claim,
    ClaimAction,
    EmployeePayable,
    EntryInvoice,
    EntryLine,
    Receipt,
)
from app.money import format_fen
from app.receipts.policy import flags_for, load_policy
from app.receipts.service import (
    duplicate_invoice_error,
    live_claim_of,
    lock_business,
    receipt_dict,
    user_name,
)
from app.services.accounts import create_sub_account
from app.services.posting import EntryInput, LineInput, post_entry

EDITABLE = ("draft", "returned")
APPROVERS = ("owner", "bookkeeper")


@dataclass(frozen=True)
class ClaimInput:
    category: str | None = None
    amount: int | None = None
    memo: str | None = None
    project: str | None = None
    date: dt.date | None = None
    receipts: list[int] | None = None
    seller: str | None = None
    buyer_tax_id: str | None = None


def _receipts(claim: Claim) -> list[Receipt]:
    return list(Receipt.select().where(Receipt.claim == claim.id).order_by(Receipt.id))


def claim_dict(c: Claim, *, full: bool = True) -> dict[str, Any]:
    receipts = _receipts(c)
    out: dict[str, Any] = {
        "id": c.id,
        "status": c.status,
        "employee": {"user_id": c.employee_id, "name": user_name(c.employee_id)},
        "category": c.category_key,
        "amount": format_fen(c.amount),
        "tax_amount": format_fen(c.tax_amount) if c.tax_amount is not None else None,
        "memo": c.memo,
        "project": c.project,
        "date": c.expense_date.isoformat(),
        "flags": json.loads(c.flags or "[]"),
        "no_qr": any(r.qr_raw is None or r.invoice_key is None for r in receipts),
        "needs_owner": c.needs_owner,
        "first_approved_by": c.first_approved_by_id,
        "decided_by": c.decided_by_id,
        "decided_at": iso_utc(c.decided_at),
        "reason": c.reason,
        "entry_id": c.entry_id,
        "payment_entry_id": c.payment_entry_id,
        "paid_at": iso_utc(c.paid_at),
        "submitted_at": iso_utc(c.submitted_at),
        "created_at": iso_utc(c.created_at),
        "receipts": [receipt_dict(r) for r in receipts],
    }
    if full:
        out["history"] = [
            {
                "action": a.action,
                "by": a.actor_id,
                "name": user_name(a.actor_id),
                "reason": a.reason,
                "at": iso_utc(a.created_at),
            }
            for a in ClaimAction.select().where(ClaimAction.claim == c.id).order_by(ClaimAction.id)
        ]
    return out


def _load(business_id: int, claim_id: int, user_id: int, role: str) -> Claim:
    c = Claim.get_or_none((Claim.id == claim_id) & (Claim.business == business_id))
    if c is None or (role == "employee" and c.employee_id != user_id):
        raise NotFound("Claim not found", code="claim_not_found")
    return c


def get_claim(business_id: int, claim_id: int, user_id: int, role: str) -> dict[str, Any]:
    return claim_dict(_load(business_id, claim_id, user_id, role))


def _awaiting(business_id: int, user_id: int, role: str) -> Any:
    """Submitted claims this caller can decide on now (the approver's badge)."""
    q = Claim.select().where((Claim.business == business_id) & (Claim.status == "submitted"))
    if role == "bookkeeper":
        q = q.where(Claim.first_approved_by.is_null() & (Claim.employee != user_id))
    elif role == "owner":
        q = q.where(Claim.first_approved_by.is_null() | (Claim.first_approved_by != user_id))
    else:
        q = q.where(Claim.id < 0)
    return q


def list_claims(
    business_id: int, user_id: int, role: str, status: str | None, mine: bool, awaiting: bool
) -> dict[str, Any]:
    if awaiting:
        q = _awaiting(business_id, user_id, role)
    else:
        q = Claim.select().where(Claim.business == business_id)
        if status:
            q = q.where(Claim.status == status)
    if mine or role == "employee":
        q = q.where(Claim.employee == user_id)
    rows = list(q.order_by(Claim.id.desc()).limit(200))
    return {
        "items": [claim_dict(c, full=False) for c in rows],
        "awaiting_me": _awaiting(business_id, user_id, role).count(),
    }


def _action(claim: Claim, actor_id: int, action: str, reason: str = "") -> None:
    ClaimAction.create(claim=claim.id, actor=actor_id, action=action, reason=reason)


def _attach(business_id: int, claim: Claim, user_id: int, role: str, ids: list[int]) -> None:
    if not ids:
        raise Unprocessable("receipts: at least one receipt", code="receipts_required")
    if len(set(ids)) != len(ids):
        raise Unprocessable("receipts: listed twice", code="invalid_field")
    rows = list(Receipt.select().where((Receipt.business == business_id) & Receipt.id.in_(ids)))
    found = {r.id: r for r in rows}
    for rid in ids:
        r = found.get(rid)
        if r is None or (role == "employee" and r.uploaded_by_id != user_id):
            raise NotFound(f"Receipt {rid} not found", code="receipt_not_found")
        if r.claim_id is not None and r.claim_id != claim.id:
            other = Claim.get_by_id(r.claim_id)
            if other.status != "rejected":
                raise Conflict(
                    f"Receipt {rid} is already in claim #{other.id}",
                    code="receipt_in_use",
                    details={"receipt_id": rid, "claim_id": other.id},
                )
        if r.invoice_key:
            earlier = live_claim_of(business_id, r.invoice_key, exclude=r.id)
            if earlier is not None and earlier.claim_id != claim.id:
                raise duplicate_invoice_error(earlier)
    Receipt.update(claim=None).where((Receipt.claim == claim.id) & Receipt.id.not_in(ids)).execute()
    Receipt.update(claim=claim.id).where(Receipt.id.in_(ids)).execute()


def _check_category(business_id: int, key: str) -> Category:
    cat = Category.get_or_none(
        (Category.business == business_id) & (Category.key == key) & (Category.kind == "expense")
    )
    if cat is None or not cat.is_active:
        raise Unprocessable(f"category: no expense category {key!r}", code="unknown_category")
    return cat


def _apply(c: Claim, data: ClaimInput) -> None:
    if data.category is not None:
        _check_category(c.business_id, data.category)
        c.category_key = data.category
    if data.amount is not None:
        c.amount = data.amount
    if data.memo is not None:
        c.memo = data.memo.strip()
    if data.project is not None:
        c.project = data.project.strip()
    if data.date is not None:
        c.expense_date = data.date


def _typed_fields(c: Claim, data: ClaimInput) -> None:
    """Seller / buyer tax ID typed by the employee go onto the claim's receipts."""
    if data.seller is not None:
        Receipt.update(seller=data.seller.strip()).where(Receipt.claim == c.id).execute()
    if data.buyer_tax_id is not None:
        Receipt.update(buyer_tax_id=data.buyer_tax_id.strip().upper() or None).where(
            Receipt.claim == c.id
        ).execute()


def create_claim(
    business_id: int, user_id: int, role: str, data: ClaimInput, submit: bool = False
) -> dict[str, Any]:
    if data.category is None or data.amount is None:
        raise Unprocessable("category and amount are required", code="missing_field")
    with write_transaction():
        lock_business(business_id)
        _check_category(business_id, data.category)
        c = Claim.create(
            business=business_id,
            employee=user_id,
            category_key=data.category,
            amount=data.amount,
            memo=(data.memo or "").strip(),
            project=(data.project or "").strip(),
            expense_date=data.date or business_today(),
        )
        _attach(business_id, c, user_id, role, data.receipts or [])
        _typed_fields(c, data)
        _action(c, user_id, "created")
        if submit:
            _submit(c, user_id)
    return claim_dict(Claim.get_by_id(c.id))


def update_claim(
    business_id: int, claim_id: int, user_id: int, role: str, data: ClaimInput
) -> dict[str, Any]:
    with write_transaction():
        lock_business(business_id)
        c = _load(business_id, claim_id, user_id, role)
        if c.employee_id != user_id:
            raise Forbidden("Only the employee who filed a claim edits it", code="not_your_claim")
        if c.status not in EDITABLE:
            raise Conflict(f"A {c.status} claim cannot be edited", code="claim_not_editable")
        _apply(c, data)
        c.updated_at = utcnow()
        c.save()
        if data.receipts is not None:
            _attach(business_id, c, user_id, role, data.receipts)
        _typed_fields(c, data)
    return claim_dict(Claim.get_by_id(c.id))


def _submit(c: Claim, user_id: int) -> None:
    receipts = _receipts(c)
    if not receipts:
        raise Unprocessable("A claim needs at least one receipt", code="receipts_required")
    policy = load_policy(c.business_id)
    flags = flags_for(c, receipts, business_today(), policy)
    blocking = [f for f in flags if f["severity"] == "block"]
    if blocking:
        raise Unprocessable(
            f"Policy blocks this claim: {blocking[0]['message_en']}",
            code="policy_blocked",
            details={"flags": blocking},
        )
    c.flags = json.dumps(flags, ensure_ascii=False)
    c.status = "submitted"
    c.submitted_at = utcnow()
    c.needs_owner = policy.approval_limit is not None and c.amount > policy.approval_limit
    c.first_approved_by = None
    c.first_approved_at = None
    c.reason = ""
    c.updated_at = utcnow()
    c.save()
    _action(c, user_id, "submitted")
    emit(
        LedgerEvent(
            "claim.submitted",
            c.business_id,
            user_id,
            {
                "claim": c.id,
                "employee": c.employee_id,
                "category": c.category_key,
                "amount": format_fen(c.amount),
                "date": c.expense_date.isoformat(),
                "receipts": [{"receipt": r.id, "sha256": r.sha256} for r in receipts],
                "flags": [f["code"] for f in flags],
            },
        )
    )


def submit_claim(business_id: int, claim_id: int, user_id: int, role: str) -> dict[str, Any]:
    with write_transaction():
        lock_business(business_id)
        c = _load(business_id, claim_id, user_id, role)
        if c.employee_id != user_id:
            raise Forbidden("Only the employee who filed a claim submits it", code="not_your_claim")
        if c.status not in EDITABLE:
            raise Conflict(f"A {c.status} claim cannot be submitted", code="claim_not_editable")
        _submit(c, user_id)
    return claim_dict(Claim.get_by_id(c.id))


def _decidable(business_id: int, claim_id: int, user_id: int, role: str) -> Claim:
    c = _load(business_id, claim_id, user_id, role)
    if c.status != "submitted":
        raise Conflict(
            f"The claim is {c.status}, not awaiting approval", code="claim_not_submitted"
        )
    if c.employee_id == user_id and role != "owner":
        raise Forbidden("You cannot decide on your own claim", code="own_claim")
    return c


def _decide(
    business_id: int, claim_id: int, user_id: int, role: str, status: str, reason: str
) -> dict[str, Any]:
    reason = reason.strip()
    if not reason:
        raise Unprocessable("reason: required", code="reason_required")
    with write_transaction():
        lock_business(business_id)
        c = _decidable(business_id, claim_id, user_id, role)
        action = {"rejected": "rejected", "returned": "returned"}[status]
        c.status = status
        c.reason = reason
        c.decided_by = user_id
        c.decided_at = utcnow()
        c.first_approved_by = None
        c.first_approved_at = None
        c.updated_at = utcnow()
        c.save()
        _action(c, user_id, action, reason)
        emit(
            LedgerEvent(
                f"claim.{action}",
                business_id,
                user_id,
                {"claim": c.id, "employee": c.employee_id, "reason": reason},
            )
        )
    return claim_dict(Claim.get_by_id(c.id))


def reject_claim(b: int, cid: int, uid: int, role: str, reason: str) -> dict[str, Any]:
    return _decide(b, cid, uid, role, "rejected", reason)


def return_claim(b: int, cid: int, uid: int, role: str, reason: str) -> dict[str, Any]:
    return _decide(b, cid, uid, role, "returned", reason)


def payable_account(business_id: int, employee_id: int, actor_id: int) -> tuple[str, str]:
    """(account code, line memo) for what the business owes this employee."""
    name = user_name(employee_id)
    row = EmployeePayable.get_or_none(
        (EmployeePayable.business == business_id) & (EmployeePayable.user == employee_id)
    )
    if row is not None:
        return row.account_code, name
    parent = Account.get(Account.business == business_id, Account.code == "2241")
    has_children = (
        Account.select()
        .where((Account.business == business_id) & (Account.parent_code == "2241"))
        .exists()
    )
    if not has_children and EntryLine.select().where(EntryLine.account == parent.id).exists():
        code = "2241"  # the chart forbids children now; the memo names the employee
    else:
        code = create_sub_account(business_id, actor_id, "2241", name[:64]).code
    EmployeePayable.create(business=business_id, user=employee_id, account_code=code)
    return code, name


def _input_vat(c: Claim, receipts: list[Receipt], tax: int | None) -> int:
    """The input VAT to book: given by the approver, or derived for legacy special invoices
    (their QR amount excludes tax, so the tax is what was paid above it). Only special VAT
    invoices of a general taxpayer qualify."""
    special = [r for r in receipts if r.kind in SPECIAL_KINDS]
    general = Business.get_by_id(c.business_id).taxpayer_type == "general"
    if tax is not None:
        if tax and (not special or not general):
            raise Unprocessable(
                "Input VAT is deductible only on a special VAT invoice (01/08/31) of a general "
                "taxpayer",
                code="input_vat_not_deductible",
            )
        if tax >= c.amount:
            raise Unprocessable("tax_amount: less than the claim amount", code="invalid_amount")
        return tax
    if not special or not general or len(special) != len(receipts):
        return 0
    if all(r.amount_basis == "excl_tax" and r.amount for r in special):
        excl = sum(r.amount or 0 for r in special)
        return c.amount - excl if 0 < excl < c.amount else 0
    return 0  # 数电票: whether the QR amount includes tax is unconfirmed; the approver says


def approve_claim(
    business_id: int,
    claim_id: int,
    user_id: int,
    role: str,
    tax_amount: int | None = None,
    date: dt.date | None = None,
) -> dict[str, Any]:
    with write_transaction():
        lock_business(business_id)
        c = _decidable(business_id, claim_id, user_id, role)
        if c.needs_owner and role != "owner":
            if c.first_approved_by_id is not None:
                raise Conflict(
                    "Already approved; the owner's approval is still needed",
                    code="awaiting_owner",
                )
            c.first_approved_by = user_id
            c.first_approved_at = utcnow()
            c.updated_at = utcnow()
            c.save()
            _action(c, user_id, "approved", "first of two: the owner must approve as well")
            emit(
                LedgerEvent(
                    "claim.approved",
                    business_id,
                    user_id,
                    {"claim": c.id, "step": "first", "final": False, "entry": None},
                )
            )
            return claim_dict(Claim.get_by_id(c.id))
        receipts = _receipts(c)
        tax = _input_vat(c, receipts, tax_amount)
        cat = _check_category(business_id, c.category_key)
        payable, employee = payable_account(business_id, c.employee_id, user_id)
        memo = f"报销 #{c.id} {employee}: {c.memo}".strip().rstrip(":")[:200]
        lines = [LineInput(cat.account_code, debit=c.amount - tax, memo=c.memo[:200])]
        if tax:
            lines.append(LineInput("22210101", debit=tax, memo="进项税额"))
        lines.append(LineInput(payable, credit=c.amount, memo=f"其他应付款—{employee}"[:200]))
        entry = post_entry(
            business_id,
            EntryInput(
                date=date or business_today(),
                memo=memo,
                lines=tuple(lines),
                source="claim",
                category_key=c.category_key,
            ),
            user_id,
        )
        for r in receipts:
            if r.invoice_key:
                EntryInvoice.create(
                    business=business_id,
                    entry=entry.id,
                    invoice_key=r.invoice_key,
                    amount=r.amount,
                    created_by=user_id,
                    created_at=utcnow(),
                )
        c.status = "approved"
        c.tax_amount = tax or None
        c.entry = entry.id
        c.decided_by = user_id
        c.decided_at = utcnow()
        c.updated_at = utcnow()
        c.save()
        _action(c, user_id, "approved")
        emit(
            LedgerEvent(
                "claim.approved",
                business_id,
                user_id,
                {
                    "claim": c.id,
                    "step": "final",
                    "final": True,
                    "entry": entry.id,
                    "first_approved_by": c.first_approved_by_id,
                    "tax_amount": format_fen(tax),
                },
            )
        )
    return claim_dict(Claim.get_by_id(c.id))


def reimburse_claim(
    business_id: int,
    claim_id: int,
    user_id: int,
    role: str,
    paid_with: str,
    date: dt.date | None = None,
) -> dict[str, Any]:
    with write_transaction():
        lock_business(business_id)
        c = _load(business_id, claim_id, user_id, role)
        if c.status != "approved":
            raise Conflict(
                f"The claim is {c.status}; only an approved claim is paid",
                code="claim_not_approved",
            )
        payable, employee = payable_account(business_id, c.employee_id, user_id)
        entry = post_entry(
            business_id,
            EntryInput(
                date=date or business_today(),
                memo=f"支付报销 #{c.id} {employee}"[:200],
                lines=(
                    LineInput(payable, debit=c.amount, memo=f"其他应付款—{employee}"[:200]),
                    LineInput(PAYMENT_ACCOUNTS[paid_with], credit=c.amount),
                ),
                source="claim",
                paid_with=paid_with,
            ),
            user_id,
        )
        c.status = "paid"
        c.payment_entry = entry.id
        c.paid_by = user_id
        c.paid_at = utcnow()
        c.updated_at = utcnow()
        c.save()
        _action(c, user_id, "reimbursed")
        emit(
            LedgerEvent(
                "claim.reimbursed",
                business_id,
                user_id,
                {
                    "claim": c.id,
                    "entry": entry.id,
                    "paid_with": paid_with,
                    "amount": format_fen(c.amount),
                },
            )
        )
    return claim_dict(Claim.get_by_id(c.id))
