"""Tax periods: months, quarters and years as half-open date ranges, with stable keys.

Warnings are stored per rule and period key, so the keys must be stable text: "2026-03",
"2026-Q1", "2026". A period's start month decides which version of a rule applies
(china-facts §0: the 2023 VAT rules to tax period 2025-12, the 2026 rules from 2026-01).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date  # first day
    end: dt.date  # first day after the period: [start, end)
    key: str

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def start_month(self) -> str:
        return self.start.strftime("%Y-%m")

    def months(self) -> list[str]:
        out, d = [], self.start
        while d < self.end:
            out.append(d.strftime("%Y-%m"))
            d = add_months(d, 1)
        return out


def add_months(first: dt.date, n: int) -> dt.date:
    """First day of the month n months after (or before) `first`'s month."""
    index = first.year * 12 + first.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_of(day: dt.date) -> Period:
    start = day.replace(day=1)
    return Period(start, add_months(start, 1), start.strftime("%Y-%m"))


def quarter_of(day: dt.date) -> Period:
    q = (day.month - 1) // 3
    start = dt.date(day.year, q * 3 + 1, 1)
    return Period(start, add_months(start, 3), f"{day.year}-Q{q + 1}")


def year_of(day: dt.date) -> Period:
    return Period(dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1), str(day.year))


def filing_period_of(day: dt.date, basis: str) -> Period:
    """The VAT tax period containing `day` for a monthly or quarterly filer."""
    return quarter_of(day) if basis == "quarterly" else month_of(day)


def previous(period: Period, basis: str) -> Period:
    return filing_period_of(period.start - dt.timedelta(days=1), basis)


def month_key(day: dt.date) -> str:
    return day.strftime("%Y-%m")
