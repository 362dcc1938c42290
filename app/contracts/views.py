"""The read-only view of the books a contract's condition and expressions see.

Data (read with `var`): `event` (the triggering event, amounts as integer fen), `today`
(YYYY-MM-DD, Asia/Shanghai) and `day` (day of the month). Operations (the book views):
`{"balance": "1002"}` (an account and its sub-accounts, on its normal side, in fen) and
`{"paid_today": "<payee>"}` (fen paid or in flight to a payee today). Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from app.db import fetchone
from app.models import Claim
from app.money import parse_amount


def _fen(text: Any) -> int:
    if isinstance(text, str):
        neg = text.startswith("-")
        return (
            -parse_amount(text.lstrip("-"), allow_zero=True)
            if neg
            else parse_amount(text, allow_zero=True)
        )
    return 0


def event_view(business_id: int, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    """The event as a condition reads it; amounts become integer fen."""
    out: dict[str, Any] = {"type": kind}
    if kind == "entry.posted":
        e = content.get("entry", {})
        lines = [
            {
                "account": ln.get("account"),
                "debit": _fen(ln.get("debit", "0.00")),
                "credit": _fen(ln.get("credit", "0.00")),
            }
            for ln in e.get("lines", [])
        ]
        out.update(
            entry=e.get("id"),
            date=e.get("date"),
            memo=e.get("memo", ""),
            source=e.get("source", ""),
            lines=lines,
            amount=sum(ln["debit"] for ln in lines),
            accounts=[ln["account"] for ln in lines],
        )
    elif kind == "claim.approved":
        claim = Claim.get_or_none(
            (Claim.id == content.get("claim")) & (Claim.business == business_id)
        )
        out.update(claim=content.get("claim"), final=content.get("final", True))
        if claim is not None:
            out.update(
                amount=claim.amount,
                employee=claim.employee_id,
                payee=f"user:{claim.employee_id}",
                category=claim.category_key,
            )
    else:  # payment.received, bill.due, schedule.due: flat content, decimal strings -> fen
        for key, value in content.items():
            out[key] = _fen(value) if key == "amount" else value
    return out


def view_data(business_id: int, kind: str, content: dict[str, Any], today: dt.date) -> Any:
    return {
        "event": event_view(business_id, kind, content),
        "today": today.isoformat(),
        "day": today.day,
    }


def balance(business_id: int, code: Any) -> int:
    """An account with its sub-accounts, on its normal side, over posted entries."""
    code = str(code)
    row = fetchone(
        "SELECT COALESCE(SUM(l.debit), 0) - COALESCE(SUM(l.credit), 0), MIN(a.normal_side) "
        "FROM entry_line l JOIN account a ON a.id = l.account_id "
        "JOIN entry e ON e.id = l.entry_id "
        "WHERE a.business_id = ? AND e.status = 'posted' AND a.code LIKE ?",
        business_id,
        code.replace("%", "").replace("_", "") + "%",
    )
    net, side = (int(row[0] or 0), row[1]) if row else (0, "debit")
    return net if side != "credit" else -net


def paid_today(business_id: int, payee: Any, today: dt.date) -> int:
    row = fetchone(
        "SELECT COALESCE(SUM(amount), 0) FROM payment WHERE business_id = ? AND payee = ? "
        "AND business_date = ? AND status NOT IN ('failed', 'cancelled')",
        business_id,
        str(payee),
        today,
    )
    return int(row[0]) if row else 0


def book_ops(business_id: int, today: dt.date) -> dict[str, Callable[..., Any]]:
    return {
        "balance": lambda code=None, *_: balance(business_id, code),
        "paid_today": lambda payee=None, *_: paid_today(business_id, payee, today),
    }
