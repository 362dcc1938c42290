"""The post-posting check: threshold rules only, for postings that can move them.

It runs inside the posting's transaction (app/events), in a savepoint, so a failure here rolls
back only its own writes and never the posting. It is skipped outright unless the entry touches
revenue (5001/5051) or pays cash above the settlement threshold; then it costs one aggregated
query over the business's recent months plus, only when something fires or clears, a few row
writes. WeChat notifications are never sent from here (no network inside a transaction): the
notify sweep picks new warnings up.
"""

from __future__ import annotations

import datetime as dt
import logging

from app.db import db
from app.events import LedgerEvent
from app.models.tax import TaxMonthSales
from app.money import MAX_FEN
from app.tax.books import Books, profile_by_id
from app.tax.evaluate import immediate_only
from app.tax.metrics import CASH, REVENUE
from app.tax.periods import add_months

log = logging.getLogger("suanpan.tax")


def cash_floor() -> int:
    """The lowest cash limit of the loaded rules: below it a cash line cannot fire them."""
    from app.tax import registry

    limits = [
        int(r.params["limit"])
        for p in registry.packs()
        for r in p.rules
        if r.metric == "cash_payments_over"
    ]
    return min(limits) if limits else MAX_FEN


def _relevant(entry: dict) -> tuple[bool, bool]:
    """(touches revenue, pays cash above the threshold)."""
    revenue = cash = False
    floor = cash_floor()
    for line in entry.get("lines", []):
        account = str(line.get("account", ""))
        revenue = revenue or account.startswith(REVENUE)
        cash = cash or (account.startswith(CASH) and _fen(line.get("credit")) > floor)
    return revenue, cash


def _rules(revenue: bool, cash: bool):  # type: ignore[no-untyped-def]
    def keep(rule) -> bool:  # type: ignore[no-untyped-def]
        if not immediate_only(rule):
            return False
        if rule.metric == "cash_payments_over":
            return cash
        return revenue

    return keep


def _fen(text: object) -> int:
    if not isinstance(text, str) or not text:
        return 0
    whole, _, frac = text.partition(".")
    try:
        return min(int(whole) * 100 + int((frac + "00")[:2]), MAX_FEN)
    except ValueError:
        return 0


def on_ledger_event(event: LedgerEvent) -> None:
    if event.type not in ("entry.posted", "entry.reversed"):
        return
    entry = event.content.get("entry") or {}
    revenue, cash = _relevant(entry)
    if not (revenue or cash):
        return
    from app.tax.service import check_business

    try:
        day = dt.date.fromisoformat(entry["date"])
    except (KeyError, TypeError, ValueError):
        return
    try:
        with db.atomic():
            if revenue:
                _add_sales(event.business_id, day, entry)
            profile = profile_by_id(event.business_id)
            if profile is None:
                return
            # The 12-month window plus the 3 run-rate months, from the aggregate.
            books = Books.from_month_sales(profile, day, add_months(day.replace(day=1), -15))
            check_business(
                event.business_id,
                day,
                _rules(revenue, cash),
                profile=profile,
                books=books,
                refresh=False,
            )
    except Exception:  # a tax check must never lose a posting
        log.exception("immediate tax check failed for business %s", event.business_id)


def _add_sales(business_id: int, day: dt.date, entry: dict) -> None:
    """Keep tax_month_sales in step with this posting (same transaction)."""
    net = sum(
        _fen(line.get("credit")) - _fen(line.get("debit"))
        for line in entry.get("lines", [])
        if str(line.get("account", "")).startswith(REVENUE)
    )
    if net == 0:
        return
    TaxMonthSales.insert(business=business_id, month=day.strftime("%Y-%m"), amount=net).on_conflict(
        conflict_target=[TaxMonthSales.business, TaxMonthSales.month],
        update={TaxMonthSales.amount: TaxMonthSales.amount + net},
    ).execute()
