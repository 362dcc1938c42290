"""Time rules: timestamps are stored in UTC; business days are dates in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> dt.datetime:
    """Naive UTC now, the form every timestamp column stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def business_today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def iso_utc(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(microsecond=value.microsecond).isoformat(timespec="seconds") + "Z"


def parse_date(text: str) -> dt.date:
    """Strict YYYY-MM-DD; raises ValueError otherwise."""
    if not isinstance(text, str) or len(text) != 10:
        raise ValueError("expected a date as YYYY-MM-DD")
    return dt.date.fromisoformat(text)


def parse_month(text: str) -> dt.date:
    """'YYYY-MM' -> first day of that month."""
    if not isinstance(text, str) or len(text) != 7 or text[4] != "-":
        raise ValueError("expected a month as YYYY-MM")
    year, month = int(text[:4]), int(text[5:])
    return dt.date(year, month, 1)


def next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
