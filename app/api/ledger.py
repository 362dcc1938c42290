"""Accounts, categories, journal entries, quick records and closed months."""

from __future__ import annotations

from typing import Any

from flask import g

from app.api.routing import date_param, route
from app.api.schemas import (
    AccountBody,
    CategoryBody,
    EmptyBody,
    EntriesQuery,
    EntryBody,
    QuickBody,
    ReverseBody,
)
from app.clock import business_today
from app.errors import Unprocessable
from app.money import parse_amount
from app.services import accounts, entries, periods, posting, quick


def author_name() -> str | None:
    """The caller's display name from the access token (they just wrote the entry)."""
    return g.jwt_claims.get("name")


@route(
    "/businesses/<int:business_id>/accounts",
    "GET",
    summary="Chart of accounts",
    tag="ledger",
    action="read",
)
def list_accounts(business_id: int) -> dict[str, Any]:
    return {"items": accounts.list_accounts(business_id)}


@route(
    "/businesses/<int:business_id>/accounts",
    "POST",
    summary="Add a sub-account (明细科目)",
    tag="ledger",
    body=AccountBody,
    action="manage_accounts",
    status=201,
)
def create_account(business_id: int, body: AccountBody) -> dict[str, Any]:
    acct = accounts.create_sub_account(
        business_id, g.user_id, body.parent, body.name, body.name_en, body.code
    )
    return accounts.account_dict(acct, True)


@route(
    "/businesses/<int:business_id>/categories",
    "GET",
    summary="Quick-record categories and their accounts",
    tag="ledger",
    action="read",
)
def list_categories(business_id: int) -> dict[str, Any]:
    return {"items": accounts.list_categories(business_id)}


@route(
    "/businesses/<int:business_id>/categories/<key>",
    "POST",
    summary="Add a category or edit its mapping",
    tag="ledger",
    body=CategoryBody,
    action="manage_accounts",
)
def upsert_category(business_id: int, key: str, body: CategoryBody) -> dict[str, Any]:
    c = accounts.upsert_category(
        business_id,
        key,
        body.kind,
        body.name,
        body.name_en,
        body.account,
        body.icon,
        body.is_active,
    )
    return accounts.category_dict(c)


@route(
    "/businesses/<int:business_id>/entries",
    "POST",
    summary="Post a journal entry (or save a draft)",
    tag="ledger",
    body=EntryBody,
    action="post",
    status=201,
    errors=[409],
    write_late=True,
)
def create_entry(business_id: int, body: EntryBody) -> dict[str, Any]:
    lines = []
    for i, line in enumerate(body.lines):
        if (line.debit is None) == (line.credit is None):
            raise Unprocessable(
                f"lines.{i}: give exactly one of debit or credit", code="invalid_line"
            )
        lines.append(
            posting.LineInput(
                account=line.account,
                debit=parse_amount(line.debit, f"lines.{i}.debit") if line.debit is not None else 0,
                credit=parse_amount(line.credit, f"lines.{i}.credit")
                if line.credit is not None
                else 0,
                memo=line.memo,
            )
        )
    entry = posting.EntryInput(
        date=date_param(body.date) or business_today(), memo=body.memo, lines=tuple(lines)
    )
    row = posting.post_entry(business_id, entry, g.user_id, status=body.status)
    return entries.entry_detail(row, author_name())


@route(
    "/businesses/<int:business_id>/entries/quick",
    "POST",
    summary="Quick record an income or expense",
    tag="ledger",
    body=QuickBody,
    action="quick_record",
    status=201,
    errors=[409],
    write_late=True,
)
def quick_record(business_id: int, body: QuickBody) -> dict[str, Any]:
    row = quick.quick_record(
        business_id,
        g.user_id,
        body.kind,
        parse_amount(body.amount),
        body.category,
        body.paid_with,
        date_param(body.date),
        body.memo,
    )
    return entries.entry_detail(row, author_name())


@route(
    "/businesses/<int:business_id>/entries",
    "GET",
    summary="Entries, newest first, filtered and paged by cursor",
    tag="ledger",
    query=EntriesQuery,
    action="read_books",
)
def list_entries(business_id: int, query: EntriesQuery) -> dict[str, Any]:
    return entries.list_entries(
        business_id,
        date_from=date_param(query.date_from, "from"),
        date_to=date_param(query.date_to, "to"),
        status=query.status,
        account=query.account,
        category=query.category,
        q=query.q,
        min_amount=parse_amount(query.min_amount, "min_amount", allow_zero=True)
        if query.min_amount
        else None,
        max_amount=parse_amount(query.max_amount, "max_amount", allow_zero=True)
        if query.max_amount
        else None,
        cursor=query.cursor,
        limit=query.limit,
    )


@route(
    "/businesses/<int:business_id>/entries/<int:entry_id>",
    "GET",
    summary="One entry with its lines",
    tag="ledger",
    action="read_books",
)
def get_entry(business_id: int, entry_id: int) -> dict[str, Any]:
    return entries.entry_detail(posting.load_entry(business_id, entry_id))


@route(
    "/businesses/<int:business_id>/entries/<int:entry_id>/post",
    "POST",
    summary="Post a draft",
    tag="ledger",
    body=EmptyBody,
    action="post",
    errors=[409],
    write_late=True,
)
def post_draft(business_id: int, entry_id: int, body: EmptyBody) -> dict[str, Any]:
    return entries.entry_detail(posting.post_draft(business_id, entry_id, g.user_id), author_name())


@route(
    "/businesses/<int:business_id>/entries/<int:entry_id>",
    "DELETE",
    summary="Delete a draft (posted entries are reversed, never deleted)",
    tag="ledger",
    action="post",
    errors=[409],
)
def delete_draft(business_id: int, entry_id: int) -> dict[str, Any]:
    posting.delete_draft(business_id, entry_id)
    return {"id": entry_id, "deleted": True}


@route(
    "/businesses/<int:business_id>/entries/<int:entry_id>/reverse",
    "POST",
    summary="Post the reversing entry of a posted entry",
    tag="ledger",
    body=ReverseBody,
    action="post",
    status=201,
    errors=[409],
    write_late=True,
)
def reverse_entry(business_id: int, entry_id: int, body: ReverseBody) -> dict[str, Any]:
    row = posting.reverse_entry(business_id, entry_id, g.user_id, date_param(body.date), body.memo)
    return entries.entry_detail(row, author_name())


@route(
    "/businesses/<int:business_id>/periods",
    "GET",
    summary="Closed months",
    tag="ledger",
    action="read",
)
def list_periods(business_id: int) -> dict[str, Any]:
    return {"closed": periods.list_closed(business_id)}


@route(
    "/businesses/<int:business_id>/periods/<month>/close",
    "POST",
    summary="Close a month (YYYY-MM)",
    tag="ledger",
    body=EmptyBody,
    action="close_period",
    errors=[409],
)
def close_period(business_id: int, month: str, body: EmptyBody) -> dict[str, Any]:
    periods.close_month(business_id, month, g.user_id)
    return {"month": month, "closed": True}


@route(
    "/businesses/<int:business_id>/periods/<month>/reopen",
    "POST",
    summary="Reopen a closed month (owner)",
    tag="ledger",
    body=EmptyBody,
    action="reopen_period",
)
def reopen_period(business_id: int, month: str, body: EmptyBody) -> dict[str, Any]:
    periods.reopen_month(business_id, month, g.user_id)
    return {"month": month, "closed": False}
