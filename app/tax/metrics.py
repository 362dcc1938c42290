"""Metrics: what each rule reads from the books, as pure functions of a `Books` snapshot.

A metric returns one `Observation` per period it looked at, firing or not: the warnings service
resolves a stored warning when its period is observed again and no longer fires, and leaves
periods that were not looked at alone. `value=None` means the condition cannot hold (e.g. a
deadline that has passed). Entry lists are fetched lazily, only for rules that fire.

Each metric states what it reads (docs/tax-rules.md is generated from the same words), the
parameters a rule may give it, and the figure names its messages may use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from peewee import SQL, Select, fn

from app.db import db
from app.models import Account, Entry, EntryLine
from app.models.tax import EntryInvoice
from app.money import format_fen
from app.tax.books import Books
from app.tax.deadlines import next_deadline
from app.tax.periods import (
    Period,
    add_months,
    filing_period_of,
    month_of,
    previous,
    year_of,
)
from app.tax.rules import Pack, Rule
from app.tax.units import Value, fen_times, percent, round_half_up

REVENUE = ("5001", "5051")  # 主营业务收入, 其他业务收入: VAT-taxable sales in these books
CASH = ("1001",)
ENTRY_LIMIT = 20  # entries listed behind a warning (the largest first)


@dataclass
class Ctx:
    books: Books
    pack: Pack
    as_of: dt.date


@dataclass
class Observation:
    period: Period  # decides which rule version applies (validity by tax period)
    key: str  # the warning's period key
    value: Value | None
    figures: dict[str, Any] = field(default_factory=dict)
    # Entries behind the figure, fetched only for warnings that fire (an EntryQuery, batched).
    entries: Callable[[], list[int]] | None = None
    unconfirmed: bool = False


MetricFn = Callable[[Ctx, Rule], list[Observation]]


@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: str  # fen | ratio | count | days
    fn: MetricFn
    reads: str
    params: dict[str, str]  # name -> fen | ratio | count | account | accounts | choice:a|b
    figures: frozenset[str]
    immediate: bool = False  # cheap enough to run after each posting
    period: str = "filing"


METRICS: dict[str, MetricSpec] = {}


def metric(
    name: str,
    unit: str,
    reads: str,
    figures: set[str],
    params: dict[str, str] | None = None,
    immediate: bool = False,
) -> Callable[[MetricFn], MetricFn]:
    def register(f: MetricFn) -> MetricFn:
        METRICS[name] = MetricSpec(
            name, unit, f, reads, params or {}, frozenset(figures), immediate
        )
        return f

    return register


# --- entries behind a figure -------------------------------------------------------------------


@dataclass(frozen=True)
class EntryQuery:
    """The entries behind a figure: posted entries of the business dated in [start, end) with a
    line on these accounts above `more_than` on `side`, the largest line first, at most
    ENTRY_LIMIT. Calling it runs the query; the warnings service fetches all of a business's
    firing warnings' queries at once (`fetch_entries`), in one round trip."""

    business_id: int
    prefixes: tuple[str, ...]
    start: dt.date
    end: dt.date
    side: str  # credit | debit
    more_than: int = 0
    as_of: dt.date | None = None

    def __call__(self) -> list[int]:
        return fetch_entries([self])[0]


def _entries_select(q: EntryQuery):  # type: ignore[no-untyped-def]
    amount = EntryLine.credit if q.side == "credit" else EntryLine.debit
    cond = (
        (Entry.business == q.business_id)
        & (Entry.status == "posted")
        & (Entry.date >= q.start)
        & (Entry.date < q.end)
        & (amount > q.more_than)
        # Always true (a line is on its own business's account); it keeps the planner on this
        # business's accounts instead of every business's account with the code.
        & (Account.business == q.business_id)
    )
    if q.as_of is not None:
        cond &= Entry.date <= q.as_of
    prefix_cond = None
    for p in q.prefixes:
        c = Account.code.startswith(p)
        prefix_cond = c if prefix_cond is None else prefix_cond | c
    return (
        EntryLine.select(Entry.id.alias("eid"), fn.MAX(amount).alias("amount"))
        .join(Entry)
        .switch(EntryLine)
        .join(Account)
        .where(cond & prefix_cond)
        .group_by(Entry.id)
        .order_by(fn.MAX(amount).desc(), Entry.id)
        .limit(ENTRY_LIMIT)
    )


def fetch_entries(queries: list[EntryQuery]) -> list[list[int]]:
    """Each query's entries, largest first: one statement for all of them (UNION ALL of the
    per-query selects, each with its own ORDER BY and LIMIT, tagged with its position)."""
    if not queries:
        return []
    distinct = list(dict.fromkeys(queries))
    if len(distinct) == 1:
        ids = [eid for eid, _ in _entries_select(distinct[0]).tuples()]
        return [ids for _ in queries]
    parts = [
        Select([_entries_select(q).alias(f"e{i}")], [SQL(str(i)), SQL("eid"), SQL("amount")])
        for i, q in enumerate(distinct)
    ]
    union = parts[0]
    for part in parts[1:]:
        union = union + part  # UNION ALL
    found: list[list[tuple[int, int]]] = [[] for _ in distinct]
    for k, eid, amount in db.execute(union).fetchall():
        found[int(k)].append((-int(amount), int(eid)))
    by_query = {
        q: [eid for _, eid in sorted(rows)] for q, rows in zip(distinct, found, strict=True)
    }
    return [by_query[q] for q in queries]


def _entries_on(
    business_id: int,
    prefixes: tuple[str, ...],
    start: dt.date,
    end: dt.date,
    side: str,
    more_than: int = 0,
    as_of: dt.date | None = None,
) -> EntryQuery:
    """Posted entries in [start, end) with a line on these accounts, the largest first (lazy)."""
    return EntryQuery(business_id, tuple(prefixes), start, end, side, more_than, as_of)


# --- VAT: small-scale threshold ------------------------------------------------------------------


@metric(
    "vat_sales_period",
    "fen",
    "Net credits to 5001 主营业务收入 and 5051 其他业务收入 (and their sub-accounts) in the VAT "
    "tax period (month or quarter, from the tax profile), posted entries only.",
    {"sales", "tax_at_1pct", "filing_basis"},
    immediate=True,
)
def vat_sales_period(ctx: Ctx, rule: Rule) -> list[Observation]:
    basis = ctx.books.profile.vat_filing_basis
    current = filing_period_of(ctx.as_of, basis)
    out = []
    for period in (previous(current, basis), current):
        sales = ctx.books.credit_net(REVENUE, period.months())
        bid = ctx.books.profile.business_id
        out.append(
            Observation(
                period,
                period.key,
                sales,
                {
                    "sales": format_fen(sales),
                    # Once taxed, the whole amount is taxed at the reduced 1% (china-facts §1.2).
                    "tax_at_1pct": format_fen(fen_times(max(sales, 0), Fraction(1, 100))),
                    "filing_basis": basis,
                },
                _entries_on(bid, REVENUE, period.start, period.end, "credit"),
            )
        )
    return out


# --- VAT: general-taxpayer registration (rolling 12 months) -------------------------------------


def _rolling(ctx: Ctx) -> tuple[list[str], dict[str, int]]:
    cur = ctx.as_of.replace(day=1)
    months = [add_months(cur, -i).strftime("%Y-%m") for i in range(11, -1, -1)]
    per_month = ctx.books.by_month(REVENUE, "credit")
    return months, per_month


@metric(
    "vat_sales_rolling_12m",
    "fen",
    "Net credits to 5001/5051 over the 12 months ending with the month of the check date "
    "(months without sales count as zero; 2026年第2号).",
    {"rolling_sales", "window_from", "window_to"},
    immediate=True,
)
def vat_sales_rolling_12m(ctx: Ctx, rule: Rule) -> list[Observation]:
    months, per_month = _rolling(ctx)
    total = sum(per_month.get(m, 0) for m in months)
    bid = ctx.books.profile.business_id
    start = dt.date.fromisoformat(months[0] + "-01")
    end = add_months(ctx.as_of.replace(day=1), 1)
    return [
        Observation(
            month_of(ctx.as_of),
            str(ctx.as_of.year),
            total,
            {"rolling_sales": format_fen(total), "window_from": months[0], "window_to": months[-1]},
            _entries_on(bid, REVENUE, start, end, "credit"),
        )
    ]


@metric(
    "vat_sales_rolling_12m_projected",
    "fen",
    "The rolling 12-month sales projected `months` months ahead: months still inside the window "
    "stay as booked, each future month adds the average of the last 3 complete months (the "
    "recent run rate). The value is the highest projection; `limit` names the first breach.",
    {"projected_sales", "run_rate", "breach_month", "rolling_sales", "horizon_months"},
    params={"months": "count", "limit": "fen"},
    immediate=True,
)
def vat_sales_rolling_projected(ctx: Ctx, rule: Rule) -> list[Observation]:
    months, per_month = _rolling(ctx)
    horizon = int(rule.params.get("months", 3))
    limit = int(rule.params["limit"])
    cur = ctx.as_of.replace(day=1)
    complete = [add_months(cur, -i).strftime("%Y-%m") for i in (3, 2, 1)]
    run_rate = round_half_up(Fraction(sum(per_month.get(m, 0) for m in complete), 3))
    rolling = sum(per_month.get(m, 0) for m in months)
    best, breach = rolling, None
    for k in range(1, horizon + 1):
        kept = months[k:]  # months still in the window k months from now
        projected = sum(per_month.get(m, 0) for m in kept) + k * run_rate
        best = max(best, projected)
        if breach is None and projected > limit:
            breach = add_months(cur, k).strftime("%Y-%m")
    bid = ctx.books.profile.business_id
    start = dt.date.fromisoformat(complete[0] + "-01")
    return [
        Observation(
            month_of(ctx.as_of),
            str(ctx.as_of.year),
            best,
            {
                "projected_sales": format_fen(best),
                "run_rate": format_fen(run_rate),
                "breach_month": breach or "",
                "rolling_sales": format_fen(rolling),
                "horizon_months": horizon,
            },
            _entries_on(bid, REVENUE, start, cur, "credit"),
        )
    ]


# --- Deduction caps (EIT Implementation Regulations Arts. 40-44) --------------------------------


@dataclass(frozen=True)
class Cap:
    spent: int
    base: int
    cap: int
    deductible: int
    addback: int
    usage: Fraction


def deduction(books: Books, rule: Rule, months: list[str]) -> Cap:
    """Year-to-date spend on the account against its cap; what would be added back."""
    p = rule.params
    spent = books.debit_net((p["account"],), months)
    if p["base"] == "revenue":
        base = books.credit_net(REVENUE, months)
    else:
        base = books.debit_net(tuple(p.get("wage_accounts") or ("560206",)), months)
    base = max(base, 0)
    cap = fen_times(base, p["rate"])
    counted = fen_times(spent, p["spend_rate"]) if "spend_rate" in p else spent
    deductible = max(min(counted, cap), 0)
    addback = max(spent - deductible, 0)
    # No cap at all (no revenue or wages yet) with spend: everything is over the cap.
    overflow = Fraction(10**6) if counted > 0 else Fraction(0)
    usage = Fraction(counted, cap) if cap > 0 else overflow
    return Cap(spent, base, cap, deductible, addback, usage)


@metric(
    "deduction_cap",
    "ratio",
    "Year-to-date net debits to `account` (and sub-accounts) against `rate` x the base: "
    "revenue (net credits to 5001/5051) or wages (net debits to 560206 职工薪酬). With "
    "`spend_rate` (业务招待费: 60%) only that share of the spend counts. The value is the share "
    "of the cap used; figures show the amount that would be added back.",
    {"spent", "base", "cap", "deductible", "addback", "usage", "carry_forward"},
    params={
        "account": "account",
        "base": "choice:revenue|wages",
        "rate": "ratio",
        "spend_rate": "ratio",
        "carry_forward": "bool",
    },
)
def deduction_cap(ctx: Ctx, rule: Rule) -> list[Observation]:
    year = year_of(ctx.as_of)
    months = ctx.books.months(year.start, year.end)
    c = deduction(ctx.books, rule, months)
    bid = ctx.books.profile.business_id
    acct = rule.params["account"]
    return [
        Observation(
            year,
            year.key,
            c.usage if c.spent > 0 else None,
            {
                "spent": format_fen(c.spent),
                "base": format_fen(c.base),
                "cap": format_fen(c.cap),
                "deductible": format_fen(c.deductible),
                "addback": format_fen(c.addback),
                "usage": percent(c.usage) if c.cap > 0 else "-",
                "carry_forward": bool(rule.params.get("carry_forward", False)),
            },
            _entries_on(bid, (acct,), year.start, year.end, "debit"),
        )
    ]


# --- 小型微利企业: the 3,000,000 yuan cliff ----------------------------------------------------


@metric(
    "cit_taxable_profit_ytd",
    "fen",
    "Year-to-date profit (revenue-type minus expense-type accounts, before 5801 所得税费用) plus "
    "the add-backs of the pack's deduction-cap rules: an estimate of taxable income. Figures "
    "show the tax with the 小型微利 relief (5%) and without it (25%), and at the limit.",
    {
        "profit",
        "addbacks",
        "taxable",
        "limit",
        "tax_with_relief",
        "tax_without_relief",
        "tax_at_limit",
        "after_tax_at_limit",
        "after_tax_now",
    },
    params={"limit": "fen", "relief_rate": "ratio", "full_rate": "ratio"},
)
def cit_taxable_profit_ytd(ctx: Ctx, rule: Rule) -> list[Observation]:
    year = year_of(ctx.as_of)
    months = ctx.books.months(year.start, year.end)
    profit = ctx.books.profit(months)
    addbacks = sum(
        deduction(ctx.books, r, months).addback
        for r in ctx.pack.rules
        if r.metric == "deduction_cap" and r.valid_for(year.start_month)
    )
    taxable = profit + addbacks
    limit = int(rule.params["limit"])
    relief, full = rule.params["relief_rate"], rule.params["full_rate"]
    base = max(taxable, 0)
    tax_now = fen_times(base, relief if base <= limit else full)
    bid = ctx.books.profile.business_id
    return [
        Observation(
            year,
            year.key,
            taxable,
            {
                "profit": format_fen(profit),
                "addbacks": format_fen(addbacks),
                "taxable": format_fen(taxable),
                "limit": format_fen(limit),
                "tax_with_relief": format_fen(fen_times(base, relief)),
                "tax_without_relief": format_fen(fen_times(base, full)),
                "tax_at_limit": format_fen(fen_times(limit, relief)),
                "after_tax_at_limit": format_fen(limit - fen_times(limit, relief)),
                "after_tax_now": format_fen(taxable - tax_now),
            },
            _entries_on(bid, REVENUE, year.start, year.end, "credit"),
        )
    ]


# --- Filing deadlines ----------------------------------------------------------------------------


@metric(
    "days_to_deadline",
    "days",
    "No book figures: the next deadline for `filing` (vat: VAT and surtaxes; cit_prepayment; "
    "cit_annual: 汇算清缴 by May 31) from the pack's published table, else the holiday "
    "calendar (chinese-calendar), else weekends only. The value is days left.",
    {"due", "days_left", "filing", "filed_period", "source"},
    params={"filing": "choice:vat|cit_prepayment|cit_annual"},
)
def days_to_deadline(ctx: Ctx, rule: Rule) -> list[Observation]:
    filing = rule.params["filing"]
    basis = ctx.books.profile.vat_filing_basis if filing == "vat" else "quarterly"
    out = []
    # The deadline before the check date is observed too, as passed, so its reminder resolves.
    before = next_deadline(
        filing, ctx.as_of - dt.timedelta(days=40), basis, ctx.pack.published_deadlines
    )
    upcoming = next_deadline(filing, ctx.as_of, basis, ctx.pack.published_deadlines)
    for d in (before, upcoming):
        days = (d.due - ctx.as_of).days
        out.append(
            Observation(
                d.period,
                d.period.key,
                days if days >= 0 else None,
                {
                    "due": d.due.isoformat(),
                    "days_left": days,
                    "filing": filing,
                    "filed_period": d.period.key,
                    "source": d.source,
                },
                None,
                d.unconfirmed,
            )
        )
    if before.period.key == upcoming.period.key:
        out.pop(0)
    return out


# --- Invoices --------------------------------------------------------------------------------------


def _has_invoices(ctx: Ctx) -> bool:
    if ctx.books.has_invoices is not None:
        return ctx.books.has_invoices
    bid = ctx.books.profile.business_id
    return EntryInvoice.select().where(EntryInvoice.business == bid).exists()


@metric(
    "expense_without_invoice_share",
    "ratio",
    "Year-to-date net debits to expense-type accounts (except `exclude`: wages, taxes, income "
    "tax...) in entries with no invoice reference (entry_invoice), as a share of all such "
    "expenses. Only for businesses that record invoice references at all; otherwise no data.",
    {"expenses", "without_invoice", "share"},
    params={"exclude": "accounts", "min_amount": "fen"},
)
def expense_without_invoice_share(ctx: Ctx, rule: Rule) -> list[Observation]:
    bid = ctx.books.profile.business_id
    if not _has_invoices(ctx):
        return []  # no data source yet: never fires (docs/tax-rules.md)
    year = year_of(ctx.as_of)
    exclude = tuple(rule.params.get("exclude") or ())
    expense_codes = [
        c
        for c, t in ctx.books.types.items()
        if t == "expense" and not (exclude and c.startswith(exclude))
    ]
    if not expense_codes:
        return []
    has_invoice = EntryInvoice.select(EntryInvoice.entry).where(EntryInvoice.business == bid)
    base = (
        EntryLine.select(Entry.id, fn.SUM(EntryLine.debit - EntryLine.credit).alias("net"))
        .join(Entry)
        .switch(EntryLine)
        .join(Account)
        .where(
            (Entry.business == bid)
            & (Entry.status == "posted")
            & (Entry.date >= year.start)
            & (Entry.date <= ctx.books.until)
            & (Account.code.in_(expense_codes))
        )
        .group_by(Entry.id)
    )
    total = without = 0
    missing: list[tuple[int, int]] = []
    invoiced = {e for (e,) in has_invoice.tuples()}
    for eid, net in base.tuples():
        total += int(net)
        if eid not in invoiced:
            without += int(net)
            if net > 0:
                missing.append((int(net), eid))
    if total <= 0 or without < int(rule.params.get("min_amount", 0)):
        value: Fraction | None = None
    else:
        value = Fraction(max(without, 0), total)
    missing.sort(reverse=True)
    ids = [e for _, e in missing[:ENTRY_LIMIT]]
    return [
        Observation(
            year,
            year.key,
            value,
            {
                "expenses": format_fen(total),
                "without_invoice": format_fen(without),
                "share": percent(value) if value is not None else "-",
            },
            lambda: ids,
        )
    ]


@metric(
    "duplicate_invoice",
    "count",
    "Invoice references (entry_invoice) attached to more than one posted entry of the "
    "business, leaving out entries that were reversed and the reversals themselves. One "
    "observation per duplicated invoice; the value is the number of entries presenting it.",
    {"invoice", "times"},
)
def duplicate_invoice(ctx: Ctx, rule: Rule) -> list[Observation]:
    bid = ctx.books.profile.business_id
    if ctx.books.has_invoices is False:
        return []  # no invoice reference at all: nothing can be duplicated
    pairs = list(
        EntryInvoice.select(EntryInvoice.invoice_key, EntryInvoice.entry)
        .join(Entry, on=(EntryInvoice.entry == Entry.id))
        .where(
            (EntryInvoice.business == bid)
            & (Entry.status == "posted")
            & (Entry.date <= ctx.books.until)
        )
        .tuples()
    )
    if not pairs:
        return []
    # Leave out entries that were reversed and the reversals: a corrected booking may carry the
    # same invoice as the one it replaced. Asked only about this business's invoiced entries.
    ids = sorted({e for _, e in pairs})
    reversed_ids = {
        r for (r,) in Entry.select(Entry.reverses).where(Entry.reverses.in_(ids)).tuples()
    }
    reversals = {
        e
        for (e,) in Entry.select(Entry.id)
        .where(Entry.id.in_(ids) & Entry.reverses.is_null(False))
        .tuples()
    }
    by_key: dict[str, list[int]] = {}
    for key, eid in pairs:
        if eid not in reversed_ids and eid not in reversals:
            by_key.setdefault(key, []).append(eid)
    # Keys attached before but not duplicated now are observed too, so their warning resolves.
    year = year_of(ctx.as_of)
    out = []
    for key, ids in sorted(by_key.items()):
        ids = sorted(set(ids))
        out.append(
            Observation(
                year,
                "fapiao:" + key,
                len(ids) if len(ids) > 1 else None,
                {"invoice": key, "times": len(ids)},
                lambda ids=ids: ids,
            )
        )
    return out


# --- Cash --------------------------------------------------------------------------------------


@metric(
    "cash_payments_over",
    "count",
    "Lines crediting 1001 库存现金 (and sub-accounts) above `limit` in the month, in entries "
    "that do not debit an `allowed` account (wages may be paid in cash). The value is the count.",
    {"count", "total", "largest", "limit"},
    params={"limit": "fen", "allowed": "accounts"},
    immediate=True,
)
def cash_payments_over(ctx: Ctx, rule: Rule) -> list[Observation]:
    bid = ctx.books.profile.business_id
    limit = int(rule.params["limit"])
    allowed = tuple(rule.params.get("allowed") or ())
    current = month_of(ctx.as_of)
    prev = month_of(current.start - dt.timedelta(days=1))
    cash_lines = (
        EntryLine.select(Entry.id, Entry.date, EntryLine.credit)
        .join(Entry)
        .switch(EntryLine)
        .join(Account)
        .where(
            (Entry.business == bid)
            & (Entry.status == "posted")
            & (Entry.date >= prev.start)
            & (Entry.date <= ctx.books.until)
            & (Account.code.startswith(CASH[0]))
            & (EntryLine.credit > limit)
        )
    )
    rows = list(cash_lines.tuples())
    if allowed and rows:
        cond = None
        for p in allowed:
            c = Account.code.startswith(p)
            cond = c if cond is None else cond | c
        exempt = {
            eid
            for (eid,) in EntryLine.select(EntryLine.entry)
            .join(Account)
            .where(EntryLine.entry.in_([r[0] for r in rows]) & (EntryLine.debit > 0) & cond)
            .tuples()
        }
        rows = [r for r in rows if r[0] not in exempt]
    out = []
    for period in (prev, current):
        mine = [r for r in rows if period.start <= r[1] < period.end]
        ids = sorted({r[0] for r in mine})
        out.append(
            Observation(
                period,
                period.key,
                len(mine),
                {
                    "count": len(mine),
                    "total": format_fen(sum(r[2] for r in mine)),
                    "largest": format_fen(max((r[2] for r in mine), default=0)),
                    "limit": format_fen(limit),
                },
                lambda ids=ids: ids,
            )
        )
    return out


# --- Losses ------------------------------------------------------------------------------------


@metric(
    "loss_years",
    "count",
    "Consecutive complete calendar years, ending with last year, whose profit (as for the CIT "
    "metric, before add-backs) is negative; a year with no revenue or expense postings ends "
    "the run. Looks back three years.",
    {"years", "profits"},
)
def loss_years(ctx: Ctx, rule: Rule) -> list[Observation]:
    last = ctx.as_of.year - 1
    run, profits = 0, []
    for y in range(last, ctx.books.start.year - 1, -1):
        months = [f"{y}-{m:02d}" for m in range(1, 13)]
        if not ctx.books.active(months):
            break
        p = ctx.books.profit(months)
        if p >= 0:
            break
        run += 1
        profits.append(f"{y}: {format_fen(p)}")
    period = Period(dt.date(last, 1, 1), dt.date(last + 1, 1, 1), str(last))
    return [
        Observation(
            period,
            period.key,
            run,
            {"years": run, "profits": "; ".join(reversed(profits))},
        )
    ]


@metric(
    "loss_months",
    "count",
    "Consecutive complete months, ending with last month, with a loss (revenue minus expenses "
    "below zero); a month without postings ends the run. The warning's key is the month the "
    "run started, so one run is one warning.",
    {"months", "since", "loss_total"},
)
def loss_months(ctx: Ctx, rule: Rule) -> list[Observation]:
    month = add_months(ctx.as_of.replace(day=1), -1)
    run, total, since = 0, 0, None
    while month >= ctx.books.start:
        key = month.strftime("%Y-%m")
        if not ctx.books.active([key]):
            break
        p = ctx.books.profit([key])
        if p >= 0:
            break
        run, total, since = run + 1, total + p, key
        month = add_months(month, -1)
    if since is None:
        return []
    start = dt.date.fromisoformat(since + "-01")
    return [
        Observation(
            month_of(start),
            "since:" + since,
            run,
            {"months": run, "since": since, "loss_total": format_fen(total)},
        )
    ]


# --- VAT burden (general taxpayers) ------------------------------------------------------------


def benchmark_for(ctx: Ctx) -> tuple[Fraction | None, str]:
    bp = ctx.books.profile.vat_burden_benchmark_bp
    if bp is not None:
        return Fraction(bp, 10000), "tax_profile"
    industry = ctx.books.profile.industry.lower()
    for name, value in ctx.pack.burden_benchmarks.items():
        if name != "default" and name.lower() in industry:
            return Fraction(value), f"pack:{name}"
    value = ctx.pack.burden_benchmarks.get("default")
    return (Fraction(value), "pack:default") if value is not None else (None, "")


@metric(
    "vat_burden_vs_benchmark",
    "ratio",
    "Year-to-date VAT payable (net credits to 22210102 销项税额 and 22210103 进项税额转出 minus "
    "net debits to 22210101 进项税额) divided by sales (5001/5051), relative to the industry "
    "benchmark (tax profile, else the pack's unofficial table). Value 1 = at the benchmark.",
    {"burden", "benchmark", "benchmark_source", "vat_payable", "sales"},
    params={"min_sales": "fen"},
)
def vat_burden_vs_benchmark(ctx: Ctx, rule: Rule) -> list[Observation]:
    year = year_of(ctx.as_of)
    months = ctx.books.months(year.start, year.end)
    sales = ctx.books.credit_net(REVENUE, months)
    benchmark, source = benchmark_for(ctx)
    if benchmark is None or benchmark <= 0:
        return []
    payable = ctx.books.credit_net(("22210102", "22210103"), months) - ctx.books.debit_net(
        ("22210101",), months
    )
    enough = sales >= int(rule.params.get("min_sales", 1)) and sales > 0
    burden = Fraction(max(payable, 0), sales) if sales > 0 else Fraction(0)
    return [
        Observation(
            year,
            year.key,
            burden / benchmark if enough else None,
            {
                "burden": percent(burden),
                "benchmark": percent(benchmark),
                "benchmark_source": source,
                "vat_payable": format_fen(payable),
                "sales": format_fen(sales),
            },
        )
    ]
