"""Bills (payables with a supplier and a due date), receivables, and money that arrives.

These are what the contract templates act on: a bill approved by the owner is announced on its
due day as a `bill.due` leaf; money that arrives (marked by hand, or a provider's notification)
becomes a `payment.received` leaf that a contract can match to a receivable by reference.
Settling a receivable posts Dr the receiving account, Cr 1122 应收账款 through post_entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.clock import business_today, iso_utc, utcnow
from app.db import write_transaction
from app.errors import Conflict, NotFound
from app.events import LedgerEvent, emit
from app.models import Bill, Receivable
from app.money import format_fen
from app.services.posting import EntryInput, LineInput, post_entry

RECEIVABLE_ACCOUNT = "1122"


def bill_dict(b: Bill) -> dict[str, Any]:
    return {
        "id": b.id,
        "supplier": b.supplier,
        "payee": b.payee,
        "amount": format_fen(b.amount),
        "due_date": b.due_date.isoformat(),
        "reference": b.reference,
        "memo": b.memo,
        "status": b.status,
        "approved_by": b.approved_by_id,
        "entry": b.entry_id,
        "created_at": iso_utc(b.created_at),
    }


def receivable_dict(r: Receivable) -> dict[str, Any]:
    return {
        "id": r.id,
        "customer": r.customer,
        "amount": format_fen(r.amount),
        "due_date": r.due_date.isoformat() if r.due_date else None,
        "reference": r.reference,
        "memo": r.memo,
        "status": r.status,
        "entry": r.entry_id,
        "created_at": iso_utc(r.created_at),
    }


def create_bill(business_id: int, actor_id: int, **fields: Any) -> dict[str, Any]:
    now = utcnow()
    with write_transaction():
        b = Bill.create(
            business=business_id, created_by=actor_id, created_at=now, updated_at=now, **fields
        )
        emit(
            LedgerEvent(
                "bill.created",
                business_id,
                actor_id,
                {
                    "bill": b.id,
                    "supplier": b.supplier,
                    "amount": format_fen(b.amount),
                    "due_date": b.due_date.isoformat(),
                    # who gets paid is evidence too: verify compares it with the row
                    "payee": b.payee,
                    "reference": b.reference,
                },
            )
        )
    return bill_dict(b)


def _bill(business_id: int, bill_id: int) -> Bill:
    b = Bill.get_or_none((Bill.id == bill_id) & (Bill.business == business_id))
    if b is None:
        raise NotFound("Bill not found", code="bill_not_found")
    return b


def approve_bill(business_id: int, bill_id: int, actor_id: int) -> dict[str, Any]:
    with write_transaction():
        b = _bill(business_id, bill_id)
        if b.status != "open":
            raise Conflict(f"the bill is {b.status}", code="bill_state")
        b.status, b.approved_by, b.updated_at = "approved", actor_id, utcnow()
        b.save()
        emit(LedgerEvent("bill.approved", business_id, actor_id, {"bill": b.id}))
    return bill_dict(b)


def list_bills(business_id: int) -> list[dict[str, Any]]:
    q = Bill.select().where(Bill.business == business_id).order_by(Bill.due_date, Bill.id)
    return [bill_dict(b) for b in q.limit(500)]


def announce_due_bills(business_id: int, today: dt.date | None = None) -> int:
    """Emit `bill.due` once for every approved bill due on or before today."""
    today = today or business_today()
    count = 0
    with write_transaction():
        due = Bill.select().where(
            (Bill.business == business_id)
            & (Bill.status == "approved")
            & (Bill.due_date <= today)
            & (Bill.due_announced.is_null())
        )
        for b in due.order_by(Bill.id):
            b.due_announced = today
            b.save()
            emit(
                LedgerEvent(
                    "bill.due",
                    business_id,
                    None,
                    {
                        "bill": b.id,
                        "supplier": b.supplier,
                        "payee": b.payee or f"supplier:{b.supplier}",
                        "amount": format_fen(b.amount),
                        "due_date": b.due_date.isoformat(),
                        "reference": b.reference,
                    },
                )
            )
            count += 1
    return count


def create_receivable(business_id: int, actor_id: int, **fields: Any) -> dict[str, Any]:
    now = utcnow()
    with write_transaction():
        r = Receivable.create(
            business=business_id, created_by=actor_id, created_at=now, updated_at=now, **fields
        )
        emit(
            LedgerEvent(
                "receivable.created",
                business_id,
                actor_id,
                {"receivable": r.id, "amount": format_fen(r.amount), "reference": r.reference},
            )
        )
    return receivable_dict(r)


def list_receivables(business_id: int) -> list[dict[str, Any]]:
    q = Receivable.select().where(Receivable.business == business_id).order_by(Receivable.id)
    return [receivable_dict(r) for r in q.limit(500)]


def record_received(
    business_id: int,
    actor_id: int | None,
    amount: int,
    reference: str,
    payer: str,
    method: str,
    provider_ref: str = "",
) -> None:
    """Money arrived: a `payment.received` leaf, which contracts may book and settle."""
    with write_transaction():
        emit(
            LedgerEvent(
                "payment.received",
                business_id,
                actor_id,
                {
                    "amount": format_fen(amount),
                    "reference": reference,
                    "payer": payer,
                    "method": method,
                    "provider_ref": provider_ref,
                },
            )
        )


def settle_receivable(
    business_id: int, reference: str, to_account: str, actor_id: int | None, amount: int | None
) -> dict[str, Any] | None:
    """Settle the open receivable with this reference (and amount, when given): one entry."""
    with write_transaction():
        q = Receivable.select().where(
            (Receivable.business == business_id)
            & (Receivable.reference == reference)
            & (Receivable.status == "open")
        )
        if amount is not None:
            q = q.where(Receivable.amount == amount)
        r = q.order_by(Receivable.id).first()
        if r is None:
            return None
        entry = post_entry(
            business_id,
            EntryInput(
                date=business_today(),
                memo=f"收款 {r.customer} {reference}"[:200],
                lines=(
                    LineInput(to_account, debit=r.amount),
                    LineInput(RECEIVABLE_ACCOUNT, credit=r.amount),
                ),
                source="contract",
            ),
            actor_id,
        )
        r.status, r.entry, r.updated_at = "settled", entry.id, utcnow()
        r.save()
        emit(
            LedgerEvent(
                "receivable.settled",
                business_id,
                actor_id,
                {"receivable": r.id, "entry": entry.id, "reference": reference},
            )
        )
        return receivable_dict(r)
