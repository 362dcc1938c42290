"""Filing deadlines: the published table first, then the holiday calendar, then a fallback.

china-facts §5: VAT (with surtaxes) and CIT prepayments are due within 15 days after the period
ends, postponed for holidays (征管法实施细则 Art. 109); each year the STA publishes the actual
days (2026: 税总办征科函〔2025〕64号, carried in the rule pack as data). For years without a
published table we use the `chinese-calendar` package's holidays and 调休 workdays with the
fact sheet's derived rule (start at the 15th; if the 1st-15th hold >= 3 statutory holiday days,
move forward that many working days; then roll to a working day), which reproduces all twelve
2026 dates. For years the package does not cover yet (it raises NotImplementedError, e.g.
2027 in 1.11.0) we only roll past weekends, and say so: such a date is unconfirmed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import chinese_calendar

from app.tax.periods import Period, add_months, month_of, quarter_of

PUBLISHED, CALENDAR, FALLBACK, STATUTORY = "published", "calendar", "fallback", "statutory"


@dataclass(frozen=True)
class Deadline:
    filing: str  # vat | cit_prepayment | cit_annual
    period: Period  # the tax period being filed
    due: dt.date
    source: str  # published | calendar | fallback | statutory
    unconfirmed: bool


@dataclass(frozen=True)
class PublishedYear:
    days: tuple[int, ...]  # day of month, January..December
    basis: str
    unconfirmed: bool


def _is_workday(day: dt.date) -> bool:
    return chinese_calendar.is_workday(day)  # raises NotImplementedError outside its years


def _statutory_holiday(day: dt.date) -> bool:
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    return bool(on_holiday and name)


def _add_workdays(day: dt.date, n: int) -> dt.date:
    while n > 0:
        day += dt.timedelta(days=1)
        if _is_workday(day):
            n -= 1
    return day


def _roll_to_workday(day: dt.date) -> dt.date:
    while not _is_workday(day):
        day += dt.timedelta(days=1)
    return day


def calendar_due_day(year: int, month: int) -> dt.date:
    """The derived rule on the holiday calendar; raises NotImplementedError for unknown years."""
    fifteenth = dt.date(year, month, 15)
    holidays = sum(_statutory_holiday(dt.date(year, month, d)) for d in range(1, 16))
    due = _add_workdays(fifteenth, holidays) if holidays >= 3 else fifteenth
    return _roll_to_workday(due)


def monthly_due_day(
    year: int, month: int, published: Mapping[int, PublishedYear]
) -> tuple[dt.date, str, bool]:
    """The monthly/quarterly filing deadline falling in (year, month): (date, source, unconfirmed)."""
    table = published.get(year)
    if table is not None:
        return dt.date(year, month, table.days[month - 1]), PUBLISHED, table.unconfirmed
    try:
        return calendar_due_day(year, month), CALENDAR, True
    except NotImplementedError:
        day = dt.date(year, month, 15)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        return day, FALLBACK, True


def _filed_in(filing_month: dt.date, filing: str, basis: str) -> Period | None:
    """The tax period whose return is due in `filing_month` (first day), if any."""
    previous_day = filing_month - dt.timedelta(days=1)
    if filing == "vat" and basis == "monthly":
        return month_of(previous_day)
    if filing in ("vat", "cit_prepayment") and filing_month.month in (1, 4, 7, 10):
        return quarter_of(previous_day)
    return None


def next_deadline(
    filing: str,
    as_of: dt.date,
    basis: str,
    published: Mapping[int, PublishedYear],
) -> Deadline:
    """The first deadline on or after `as_of` for this filing."""
    if filing == "cit_annual":
        # 汇算清缴 within 5 months after the year ends (EIT Law Art. 54). Whether a weekend May 31
        # moves is unconfirmed (china-facts §5.1), so we keep May 31 and flag it then.
        year = as_of.year if as_of <= dt.date(as_of.year, 5, 31) else as_of.year + 1
        due = dt.date(year, 5, 31)
        try:
            moved = not _is_workday(due)
        except NotImplementedError:
            moved = due.weekday() >= 5
        period = Period(dt.date(year - 1, 1, 1), dt.date(year, 1, 1), str(year - 1))
        return Deadline(filing, period, due, STATUTORY, moved)
    month = as_of.replace(day=1)
    for _ in range(13):
        period = _filed_in(month, filing, basis)
        if period is not None:
            due, source, unconfirmed = monthly_due_day(month.year, month.month, published)
            if due >= as_of:
                return Deadline(filing, period, due, source, unconfirmed)
        month = add_months(month, 1)
    raise AssertionError(f"no {filing} deadline within a year of {as_of}")
