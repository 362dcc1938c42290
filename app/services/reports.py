"""Balances, the trial balance (科目余额表) and account ledgers, from posted entries only.

Sums are computed per leaf account in SQL and rolled up to parents here, so a parent's row is
always the sum of its children and the totals (taken over leaves) always balance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import Case, Value, fn

from app.models import Account, Entry, EntryLine
from app.money import format_fen
from app.services.accounts import get_account


@dataclass
class Sums:
    opening: int = 0  # debit minus credit before the period
    debit: int = 0
    credit: int = 0

    @property
    def closing(self) -> int:
        return self.opening + self.debit - self.credit

    def add(self, other: Sums) -> None:
        self.opening += other.opening
        self.debit += other.debit
        self.credit += other.credit


def account_sums(
    business_id: int, date_from: dt.date | None, date_to: dt.date | None
) -> dict[int, Sums]:
    """Per leaf account id: the balance before `date_from`, and debits/credits in the period."""
    if date_from is not None:
        before = Entry.date < date_from
        opening = fn.SUM(Case(None, [(before, EntryLine.debit - EntryLine.credit)], 0))
        debit = fn.SUM(Case(None, [(before, 0)], EntryLine.debit))
        credit = fn.SUM(Case(None, [(before, 0)], EntryLine.credit))
    else:
        opening, debit, credit = Value(0), fn.SUM(EntryLine.debit), fn.SUM(EntryLine.credit)
    q = (
        EntryLine.select(EntryLine.account, opening, debit, credit)
        .join(Entry)
        .where((Entry.business == business_id) & (Entry.status == "posted"))
        .group_by(EntryLine.account)
    )
    if date_to is not None:
        q = q.where(Entry.date <= date_to)
    return {acct: Sums(int(o or 0), int(d or 0), int(c or 0)) for acct, o, d, c in q.tuples()}


def _rolled_sums(
    business_id: int, date_from: dt.date | None, date_to: dt.date | None
) -> tuple[list[Account], dict[str, Sums], set[str]]:
    """Sums per account code, each parent holding the sum of its children; and the parent codes."""
    accounts = list(Account.select().where(Account.business == business_id).order_by(Account.code))
    by_code = {a.code: a for a in accounts}
    leaf_sums = account_sums(business_id, date_from, date_to)
    rolled: dict[str, Sums] = {}
    for a in accounts:
        s = leaf_sums.get(a.id)
        if s is None:
            continue
        code: str | None = a.code
        while code is not None:
            rolled.setdefault(code, Sums()).add(s)
            code = by_code[code].parent_code
    parents = {a.parent_code for a in accounts if a.parent_code}
    return accounts, rolled, parents


def trial_balance(
    business_id: int, date_from: dt.date | None, date_to: dt.date | None
) -> dict[str, Any]:
    accounts, rolled, parents = _rolled_sums(business_id, date_from, date_to)
    rows = []
    # Totals are over leaves, where each balance is counted once. Opening and closing columns
    # are summed row by row, as on paper, and balance because every entry does.
    totals = dict.fromkeys(("od", "oc", "d", "c", "cd", "cc"), 0)
    for a in accounts:
        s = rolled.get(a.code)
        if s is None or (s.opening == 0 and s.debit == 0 and s.credit == 0):
            continue
        od, oc = max(s.opening, 0), max(-s.opening, 0)
        cd, cc = max(s.closing, 0), max(-s.closing, 0)
        is_leaf = a.code not in parents
        if is_leaf:
            for key, value in (
                ("od", od),
                ("oc", oc),
                ("d", s.debit),
                ("c", s.credit),
                ("cd", cd),
                ("cc", cc),
            ):
                totals[key] += value
        rows.append(
            {
                "account": a.code,
                "name": a.name,
                "name_en": a.name_en,
                "type": a.type,
                "level": (len(a.code) - 2) // 2,
                "is_leaf": is_leaf,
                "opening_debit": format_fen(od),
                "opening_credit": format_fen(oc),
                "debit": format_fen(s.debit),
                "credit": format_fen(s.credit),
                "closing_debit": format_fen(cd),
                "closing_credit": format_fen(cc),
            }
        )
    return {
        "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None,
        "rows": rows,
        "total_opening_debit": format_fen(totals["od"]),
        "total_opening_credit": format_fen(totals["oc"]),
        "total_debit": format_fen(totals["d"]),
        "total_credit": format_fen(totals["c"]),
        "total_closing_debit": format_fen(totals["cd"]),
        "total_closing_credit": format_fen(totals["cc"]),
        "balanced": totals["d"] == totals["c"]
        and totals["od"] == totals["oc"]
        and totals["cd"] == totals["cc"],
    }


def _signed(amount: int, normal_side: str) -> int:
    """Balances shown on the account's normal side are positive."""
    return amount if normal_side == "debit" else -amount


def ledger(
    business_id: int, code: str, date_from: dt.date | None, date_to: dt.date | None
) -> dict[str, Any]:
    """明细账: every posted line on the account (and its sub-accounts) with a running balance."""
    acct = get_account(business_id, code)
    ids = [
        a.id
        for a in Account.select(Account.id).where(
            (Account.business == business_id) & Account.code.startswith(code)
        )
    ]
    base = (
        EntryLine.select(EntryLine, Entry, Account)
        .join(Entry)
        .switch(EntryLine)
        .join(Account)
        .where((EntryLine.account.in_(ids)) & (Entry.status == "posted"))
    )
    opening = 0
    if date_from:
        opening = (
            EntryLine.select(fn.COALESCE(fn.SUM(EntryLine.debit - EntryLine.credit), 0))
            .join(Entry)
            .where(
                (EntryLine.account.in_(ids)) & (Entry.status == "posted") & (Entry.date < date_from)
            )
            .scalar()
        ) or 0
        base = base.where(Entry.date >= date_from)
    if date_to:
        base = base.where(Entry.date <= date_to)
    running = int(opening)
    rows = []
    total_debit = total_credit = 0
    for ln in base.order_by(Entry.date, Entry.number, EntryLine.line_no):
        running += ln.debit - ln.credit
        total_debit += ln.debit
        total_credit += ln.credit
        rows.append(
            {
                "date": ln.entry.date.isoformat(),
                "entry_id": ln.entry.id,
                "number": ln.entry.number,
                "memo": ln.memo or ln.entry.memo,
                "account": ln.account.code,
                "debit": format_fen(ln.debit),
                "credit": format_fen(ln.credit),
                "balance": format_fen(_signed(running, acct.normal_side)),
            }
        )
    return {
        "account": code,
        "name": acct.name,
        "normal_side": acct.normal_side,
        "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None,
        "opening_balance": format_fen(_signed(int(opening), acct.normal_side)),
        "rows": rows,
        "total_debit": format_fen(total_debit),
        "total_credit": format_fen(total_credit),
        "closing_balance": format_fen(_signed(running, acct.normal_side)),
    }


def balances(business_id: int, as_of: dt.date | None) -> list[dict[str, Any]]:
    """Every account's balance on a date, on its normal side."""
    accounts, rolled, parents = _rolled_sums(business_id, None, as_of)
    return [
        {
            "account": a.code,
            "name": a.name,
            "type": a.type,
            "is_leaf": a.code not in parents,
            "balance": format_fen(_signed(rolled[a.code].closing, a.normal_side)),
        }
        for a in accounts
        if a.code in rolled and (rolled[a.code].debit or rolled[a.code].credit)
    ]


def _month_sums(business_id: int, start: dt.date, end: dt.date) -> dict[str, int]:
    """Revenue and expense (incl. cost) posted in [start, end), in fen."""
    q = (
        EntryLine.select(Account.type, fn.SUM(EntryLine.debit), fn.SUM(EntryLine.credit))
        .join(Entry)
        .switch(EntryLine)
        .join(Account)
        .where(
            (Entry.business == business_id)
            & (Entry.status == "posted")
            & (Entry.date >= start)
            & (Entry.date < end)
            & (Account.type.in_(["revenue", "expense"]))
        )
        .group_by(Account.type)
    )
    out = {"revenue": 0, "expense": 0}
    for kind, debit, credit in q.tuples():
        out[kind] = (
            int(credit or 0) - int(debit or 0)
            if kind == "revenue"
            else int(debit or 0) - int(credit or 0)
        )
    return out


def _months_back(first: dt.date, n: int) -> list[dt.date]:
    out = [first]
    for _ in range(n - 1):
        out.append((out[-1] - dt.timedelta(days=1)).replace(day=1))
    return sorted(out)


def dashboard(business_id: int, today: dt.date) -> dict[str, Any]:
    """The owner's home screen: money on hand, this month vs last, a 12-month trend, where the
    money went this month, and the latest entries. Figures are computed here, never in views."""
    from app.clock import next_month
    from app.services.entries import list_entries

    month = today.replace(day=1)
    months = _months_back(month, 12)
    trend = []
    for start in months:
        sums = _month_sums(business_id, start, next_month(start))
        trend.append(
            {
                "month": start.strftime("%Y-%m"),
                "income": format_fen(sums["revenue"]),
                "expense": format_fen(sums["expense"]),
                "profit": format_fen(sums["revenue"] - sums["expense"]),
            }
        )
    # Money on hand, by where it sits; sub-accounts (e.g. 100201 a second bank) count with their parent.
    groups = {"1001": "cash", "1002": "bank", "101201": "wechat", "101202": "alipay"}
    codes = {
        a.id: a.code
        for a in Account.select(Account.id, Account.code).where(Account.business == business_id)
    }
    money = dict.fromkeys(groups.values(), 0)
    for acct_id, s in account_sums(business_id, None, today).items():
        for prefix, name in groups.items():
            if codes[acct_id].startswith(prefix):
                money[name] += s.closing
    by_category = (
        EntryLine.select(
            Account.code, Account.name, Account.name_en, fn.SUM(EntryLine.debit - EntryLine.credit)
        )
        .join(Entry)
        .switch(EntryLine)
        .join(Account)
        .where(
            (Entry.business == business_id)
            & (Entry.status == "posted")
            & (Entry.date >= month)
            & (Entry.date < next_month(month))
            & (Account.type == "expense")
        )
        .group_by(Account.code, Account.name, Account.name_en)
    )
    spent = sorted(
        (
            (int(total or 0), code, name, name_en)
            for code, name, name_en, total in by_category.tuples()
        ),
        reverse=True,
    )
    categories = [
        {"account": code, "name": name, "name_en": name_en, "amount": format_fen(total)}
        for total, code, name, name_en in spent
        if total > 0
    ]
    this, last = trend[-1], trend[-2]
    return {
        "as_of": today.isoformat(),
        "money": {
            **{k: format_fen(v) for k, v in money.items()},
            "total": format_fen(sum(money.values())),
        },
        "this_month": this,
        "last_month": last,
        "trend": trend,
        "expense_by_category": categories,
        "recent_entries": list_entries(business_id, status="posted", limit=5)["items"],
    }
