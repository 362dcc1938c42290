"""Reading journal entries: one entry with its lines, and the filtered, paged feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from peewee import fn

from app.clock import iso_utc
from app.errors import Unprocessable
from app.models import Account, Entry, EntryLine, User
from app.money import format_fen


def entry_dict(
    e: Entry, lines: list[EntryLine] | None = None, reversed_by: int | None = None
) -> dict[str, Any]:
    if lines is None:
        lines = list(
            EntryLine.select(EntryLine, Account)
            .join(Account)
            .where(EntryLine.entry == e.id)
            .order_by(EntryLine.line_no)
        )
    total = sum(ln.debit for ln in lines)
    return {
        "id": e.id,
        "number": e.number,
        "date": e.date.isoformat(),
        "memo": e.memo,
        "status": e.status,
        "source": e.source,
        "category": e.category_key,
        "paid_with": e.paid_with,
        "total": format_fen(total),
        "lines": [
            {
                "line_no": ln.line_no,
                "account": ln.account.code,
                "account_name": ln.account.name,
                "debit": format_fen(ln.debit),
                "credit": format_fen(ln.credit),
                "memo": ln.memo,
            }
            for ln in lines
        ],
        "reverses": e.reverses_id,
        "reversed_by": reversed_by,
        "created_by": e.created_by_id,
        "created_at": iso_utc(e.created_at),
        "posted_by": e.posted_by_id,
        "posted_at": iso_utc(e.posted_at),
    }


def entry_detail(e: Entry, author_name: str | None = None) -> dict[str, Any]:
    """One entry as the API shows it. A row fresh from post_entry is serialised already and,
    being new, has no reversal; only the author's name may need a lookup."""
    fresh = getattr(e, "_serialised", None)
    if fresh is not None:
        out = dict(fresh)
    else:
        rev = Entry.select(Entry.id).where(Entry.reverses == e.id).first()
        out = entry_dict(e, reversed_by=rev.id if rev else None)
    if author_name is None and e.created_by_id:
        author = User.select(User.display_name).where(User.id == e.created_by_id).first()
        author_name = author.display_name if author else None
    out["created_by_name"] = author_name
    return out


def list_entries(
    business_id: int,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    status: str | None = None,
    account: str | None = None,
    category: str | None = None,
    q: str | None = None,
    min_amount: int | None = None,
    max_amount: int | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> dict[str, Any]:
    """Newest first (by date, then number). `cursor` continues after the last item of a page."""
    query = Entry.select().where(Entry.business == business_id)
    if date_from:
        query = query.where(Entry.date >= date_from)
    if date_to:
        query = query.where(Entry.date <= date_to)
    if status:
        query = query.where(Entry.status == status)
    if category:
        query = query.where(Entry.category_key == category)
    if q:
        query = query.where(fn.LOWER(Entry.memo).contains(q.lower()))
    if account:
        # The account and everything under it (a parent code is a prefix of its children's).
        sub = (
            EntryLine.select(EntryLine.entry)
            .join(Account)
            .where((Account.business == business_id) & (Account.code.startswith(account)))
        )
        query = query.where(Entry.id.in_(sub))
    if min_amount is not None or max_amount is not None:
        totals = EntryLine.select(EntryLine.entry, fn.SUM(EntryLine.debit).alias("total")).group_by(
            EntryLine.entry
        )
        having = []
        if min_amount is not None:
            having.append(fn.SUM(EntryLine.debit) >= min_amount)
        if max_amount is not None:
            having.append(fn.SUM(EntryLine.debit) <= max_amount)
        totals = totals.having(*having)
        query = query.where(Entry.id.in_(totals.select(EntryLine.entry)))
    if cursor:
        try:
            c_date, c_number = cursor.split("_")
            c_date_v, c_number_v = dt.date.fromisoformat(c_date), int(c_number)
        except ValueError:
            raise Unprocessable(
                "cursor: not a cursor this API returned", code="invalid_cursor"
            ) from None
        query = query.where(
            (Entry.date < c_date_v) | ((Entry.date == c_date_v) & (Entry.number < c_number_v))
        )
    rows = list(query.order_by(Entry.date.desc(), Entry.number.desc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    lines_by_entry: dict[int, list[EntryLine]] = {r.id: [] for r in rows}
    if rows:
        for ln in (
            EntryLine.select(EntryLine, Account)
            .join(Account)
            .where(EntryLine.entry.in_(list(lines_by_entry)))
            .order_by(EntryLine.entry, EntryLine.line_no)
        ):
            lines_by_entry[ln.entry_id].append(ln)
        reversed_by = {
            r.reverses_id: r.id
            for r in Entry.select(Entry.id, Entry.reverses).where(
                Entry.reverses.in_(list(lines_by_entry))
            )
        }
    items = (
        [entry_dict(r, lines_by_entry[r.id], reversed_by.get(r.id)) for r in rows] if rows else []
    )
    next_cursor = f"{rows[-1].date.isoformat()}_{rows[-1].number}" if more else None
    return {"items": items, "next_cursor": next_cursor}
