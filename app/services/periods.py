"""Closing and reopening months. Nothing posts into a closed month."""

from __future__ import annotations

from peewee import IntegrityError

from app.clock import next_month, parse_month
from app.db import write_transaction
from app.errors import Conflict, NotFound, Unprocessable
from app.events import LedgerEvent, emit
from app.models import ClosedPeriod, Entry


def _month(text: str) -> str:
    try:
        parse_month(text)
    except ValueError:
        raise Unprocessable("month: expected YYYY-MM", code="invalid_month") from None
    return text


def list_closed(business_id: int) -> list[str]:
    q = ClosedPeriod.select(ClosedPeriod.month).where(ClosedPeriod.business == business_id)
    return sorted(p.month for p in q)


def close_month(business_id: int, month: str, actor_id: int) -> None:
    month = _month(month)
    with write_transaction():
        start = parse_month(month)
        drafts = (
            Entry.select()
            .where(
                (Entry.business == business_id)
                & (Entry.status == "draft")
                & (Entry.date >= start)
                & (Entry.date < next_month(start))
            )
            .count()
        )
        try:
            with write_transaction():
                ClosedPeriod.create(business=business_id, month=month, closed_by=actor_id)
        except IntegrityError:
            raise Conflict(f"{month} is already closed", code="period_already_closed") from None
        emit(
            LedgerEvent(
                "period.closed", business_id, actor_id, {"month": month, "open_drafts": drafts}
            )
        )


def reopen_month(business_id: int, month: str, actor_id: int) -> None:
    month = _month(month)
    with write_transaction():
        deleted = (
            ClosedPeriod.delete()
            .where((ClosedPeriod.business == business_id) & (ClosedPeriod.month == month))
            .execute()
        )
        if not deleted:
            raise NotFound(f"{month} is not closed", code="period_not_closed")
        emit(LedgerEvent("period.reopened", business_id, actor_id, {"month": month}))
