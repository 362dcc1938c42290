"""What the rules read from the books: one aggregated query per business and evaluation.

Every metric is computed from monthly debit/credit sums per account, loaded once (`Books.load`)
with a single GROUP BY over the business's posted lines in the look-back window. That keeps the
daily run for many businesses at one query each (plus a few small, indexed queries for the
rules that need individual entries), and keeps the metrics pure functions that are easy to test.
Amounts are integer fen.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from peewee import Query, fn

from app.db import db, is_postgres
from app.models import Account, Business, Entry, EntryLine
from app.models.tax import TaxMonthSales, TaxProfile
from app.tax.periods import add_months


@dataclass(frozen=True)
class Profile:
    """A business's tax facts: the books' owner record plus its tax profile (with defaults)."""

    business_id: int
    taxpayer_type: str  # small_scale | general
    vat_filing_basis: str  # monthly | quarterly
    cit_payer: bool
    industry: str
    vat_burden_benchmark_bp: int | None


def default_filing_basis(taxpayer_type: str) -> str:
    """Small-scale taxpayers usually file quarterly (Implementation Regulations Art. 43);
    general taxpayers monthly. The owner can change it in the tax profile."""
    return "quarterly" if taxpayer_type == "small_scale" else "monthly"


def load_profile(business: Business, row: TaxProfile | None = None, lookup: bool = True) -> Profile:
    """`row` is the business's tax profile; with lookup=False a missing row means the business
    has none (the caller already looked, e.g. the daily run reads all profiles at once)."""
    if row is None and lookup:
        row = TaxProfile.get_or_none(TaxProfile.business == business.id)
    return Profile(
        business_id=business.id,
        taxpayer_type=business.taxpayer_type,
        vat_filing_basis=row.vat_filing_basis
        if row
        else default_filing_basis(business.taxpayer_type),
        cit_payer=row.cit_payer if row else True,
        industry=business.industry or "",
        vat_burden_benchmark_bp=row.vat_burden_benchmark_bp if row else None,
    )


def profile_by_id(business_id: int) -> Profile | None:
    """One plain query: the business with its tax profile (the post-posting hot path)."""
    row = db.execute_sql(
        "SELECT b.taxpayer_type, b.industry, p.vat_filing_basis, p.cit_payer, "
        "p.vat_burden_benchmark_bp FROM business b LEFT JOIN tax_profile p "
        "ON p.business_id = b.id WHERE b.id = %s" % ("%s" if is_postgres() else "?"),
        (business_id,),
    ).fetchone()
    if row is None:
        return None
    taxpayer_type, industry, basis, cit_payer, bp = row
    return Profile(
        business_id=business_id,
        taxpayer_type=taxpayer_type,
        vat_filing_basis=basis or default_filing_basis(taxpayer_type),
        cit_payer=True if cit_payer is None else bool(cit_payer),
        industry=industry or "",
        vat_burden_benchmark_bp=bp,
    )


def _month_expr():  # type: ignore[no-untyped-def]
    if is_postgres():
        return fn.to_char(Entry.date, "YYYY-MM")
    return fn.strftime("%Y-%m", Entry.date)


@dataclass
class Books:
    """Monthly sums per account code, for posted entries dated in [start, until].

    `as_of` is the business date the rules are evaluated for; `until` bounds the data and is
    as_of for the daily run. The post-posting check evaluates as of the entry's date but reads
    every posted entry (a back-dated posting must see the rest of its period).
    """

    profile: Profile
    as_of: dt.date
    start: dt.date
    until: dt.date
    # (account code, "YYYY-MM") -> [debit, credit]
    sums: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)  # account code -> type
    # Whether the business has any invoice reference (entry_invoice); None: not known, the
    # invoice metrics ask. The daily run knows it for every business from one query.
    has_invoices: bool | None = None

    @classmethod
    def load(
        cls,
        profile: Profile,
        as_of: dt.date,
        until: dt.date | None = None,
        start: dt.date | None = None,
        prefixes: tuple[str, ...] | None = None,
    ) -> Books:
        """Three years back by default (loss years). The post-posting check needs far less: a
        shorter window and only the accounts its rules read (`prefixes`), found through the
        line's account index rather than by scanning every line of the business."""
        start = start or dt.date(as_of.year - 3, 1, 1)
        until = until or as_of
        books = cls(profile, as_of, start, until)
        month = _month_expr()
        # Sums per account id and month over the business's posted entries (found through the
        # entry's business index and the line's entry index), then the account's code and type
        # for the few resulting rows: joining `account` before grouping made PostgreSQL hash
        # every account of every business (or scan every line) for one business's figures.
        sums = (
            EntryLine.select(
                EntryLine.account.alias("account_id"),
                month.alias("ym"),
                fn.SUM(EntryLine.debit).alias("debit"),
                fn.SUM(EntryLine.credit).alias("credit"),
            )
            .join(Entry)
            .where(
                (Entry.business == profile.business_id)
                & (Entry.status == "posted")
                & (Entry.date >= start)
                & (Entry.date <= until)
            )
            .group_by(EntryLine.account, month)
        )
        if prefixes is not None:
            ids = [
                a.id
                for a in Account.select(Account.id, Account.code).where(
                    Account.business == profile.business_id
                )
                if a.code.startswith(prefixes)
            ]
            if not ids:
                return books
            sums = sums.where(EntryLine.account.in_(ids))
        sums = sums.alias("s")
        q = (
            Account.select(Account.code, Account.type, sums.c.ym, sums.c.debit, sums.c.credit)
            .join(sums, on=(sums.c.account_id == Account.id))
            # Always true (lines are on their business's accounts): the business's accounts
            # through their index rather than every account of every business.
            .where(Account.business == profile.business_id)
        )
        for code, type_, ym, debit, credit in q.tuples():
            books.sums[(code, ym)] = [int(debit or 0), int(credit or 0)]
            books.types[code] = type_
        return books

    @classmethod
    def from_month_sales(cls, profile: Profile, as_of: dt.date, start: dt.date) -> Books:
        """Sales only, from the tax_month_sales aggregate: enough for the threshold rules."""
        books = cls(profile, as_of, start, dt.date(2099, 12, 31))
        q = TaxMonthSales.select(TaxMonthSales.month, TaxMonthSales.amount).where(
            (TaxMonthSales.business == profile.business_id)
            & (TaxMonthSales.month >= start.strftime("%Y-%m"))
        )
        for month, amount in q.tuples():
            books.sums[("5001", month)] = [0, int(amount)]
        books.types["5001"] = "revenue"
        return books

    def sync_month_sales(self, before: dt.date, pending: list[Query] | None = None) -> None:
        """Rewrite the aggregate from these books for complete months in [start, before).
        With `pending` the two statements are appended to it instead of run."""
        first, last = self.start.strftime("%Y-%m"), before.strftime("%Y-%m")
        per_month = self.by_month(("5001", "5051"), "credit")
        queries: list[Query] = [
            TaxMonthSales.delete().where(
                (TaxMonthSales.business == self.profile.business_id)
                & (TaxMonthSales.month >= first)
                & (TaxMonthSales.month < last)
            )
        ]
        rows = [
            {"business": self.profile.business_id, "month": m, "amount": v}
            for m, v in sorted(per_month.items())
            if first <= m < last
        ]
        if rows:
            queries.append(TaxMonthSales.insert_many(rows))
        if pending is not None:
            pending.extend(queries)
            return
        for q in queries:
            q.execute()

    def months(self, first: dt.date, end: dt.date) -> list[str]:
        """Month keys of [first, end) (first days of months)."""
        out, d = [], first.replace(day=1)
        while d < end:
            out.append(d.strftime("%Y-%m"))
            d = add_months(d, 1)
        return out

    def _codes(self, prefixes: Iterable[str]) -> list[str]:
        pre = tuple(prefixes)
        return [c for c in self.types if c.startswith(pre)]

    def debit_net(self, prefixes: Iterable[str], months: Iterable[str]) -> int:
        """Debits minus credits on accounts under `prefixes` in `months`."""
        codes, total = self._codes(prefixes), 0
        for m in months:
            for c in codes:
                d_c = self.sums.get((c, m))
                if d_c:
                    total += d_c[0] - d_c[1]
        return total

    def credit_net(self, prefixes: Iterable[str], months: Iterable[str]) -> int:
        return -self.debit_net(prefixes, months)

    def credits(self, prefixes: Iterable[str], months: Iterable[str]) -> int:
        codes, total = self._codes(prefixes), 0
        for m in months:
            for c in codes:
                d_c = self.sums.get((c, m))
                if d_c:
                    total += d_c[1]
        return total

    def debits(self, prefixes: Iterable[str], months: Iterable[str]) -> int:
        codes, total = self._codes(prefixes), 0
        for m in months:
            for c in codes:
                d_c = self.sums.get((c, m))
                if d_c:
                    total += d_c[0]
        return total

    def by_month(self, prefixes: Iterable[str], side: str) -> dict[str, int]:
        """Net amount per month on the given normal side."""
        out: dict[str, int] = defaultdict(int)
        pre = tuple(prefixes)
        for (code, m), (d, cr) in self.sums.items():
            if code.startswith(pre):
                out[m] += (d - cr) if side == "debit" else (cr - d)
        return out

    def profit(self, months: Iterable[str], exclude: Iterable[str] = ("5801",)) -> int:
        """Revenue minus expenses (小企业会计准则 profit and loss accounts), before income tax."""
        skip = tuple(exclude)
        total = 0
        months = set(months)
        for (code, m), (d, cr) in self.sums.items():
            if m not in months or code.startswith(skip):
                continue
            t = self.types.get(code)
            if t == "revenue":
                total += cr - d
            elif t == "expense":
                total -= d - cr
        return total

    def active(self, months: Iterable[str]) -> bool:
        """Any revenue or expense posted in these months (a dormant year is not a loss year)."""
        ms = set(months)
        return any(m in ms and self.types.get(c) in ("revenue", "expense") for (c, m) in self.sums)
