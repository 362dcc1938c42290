"""Trial balance, account ledger and balances."""

from __future__ import annotations

from typing import Any

from app.api.routing import date_param, route
from app.api.schemas import AsOfQuery, RangeQuery
from app.clock import business_today
from app.services import reports


@route(
    "/businesses/<int:business_id>/reports/trial-balance",
    "GET",
    summary="Trial balance (科目余额表) for a date range",
    tag="reports",
    query=RangeQuery,
    action="read_books",
)
def trial_balance(business_id: int, query: RangeQuery) -> dict[str, Any]:
    return reports.trial_balance(
        business_id, date_param(query.date_from, "from"), date_param(query.date_to, "to")
    )


@route(
    "/businesses/<int:business_id>/reports/balances",
    "GET",
    summary="Account balances on a date",
    tag="reports",
    query=AsOfQuery,
    action="read_books",
)
def balances(business_id: int, query: AsOfQuery) -> dict[str, Any]:
    return {
        "as_of": query.as_of,
        "items": reports.balances(business_id, date_param(query.as_of, "as_of")),
    }


@route(
    "/businesses/<int:business_id>/accounts/<code>/ledger",
    "GET",
    summary="Account ledger (明细账) with running balance",
    tag="reports",
    query=RangeQuery,
    action="read_books",
)
def account_ledger(business_id: int, code: str, query: RangeQuery) -> dict[str, Any]:
    return reports.ledger(
        business_id, code, date_param(query.date_from, "from"), date_param(query.date_to, "to")
    )


@route(
    "/businesses/<int:business_id>/reports/dashboard",
    "GET",
    summary="The owner's dashboard figures",
    tag="reports",
    query=AsOfQuery,
    action="read_books",
)
def dashboard(business_id: int, query: AsOfQuery) -> dict[str, Any]:
    """Money on hand, this month vs last, a 12-month trend, expenses by account, recent entries."""
    return reports.dashboard(business_id, date_param(query.as_of, "as_of") or business_today())
