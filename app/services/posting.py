"""The single posting function, and the checks every journal entry passes first.

Every path that writes the books — the API, the CLI, quick records, reversals, the demo data and,
later, approvals, imports and rule contracts — goes through `post_entry`, so that the checks are
the same everywhere and the chain can record each posting inside the same transaction.

The checks are named functions returning error values (as in Beancount's ops/validation.py):
they are invariants on the user's data, not sanity checks, so they are reported, not asserted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from peewee import JOIN, IntegrityError

from app.chain_store import LOG_SIZE_SQL, known_log_size
from app.clock import business_today, utcnow
from app.db import (
    execute,
    fetchall,
    fetchone,
    holds_lock,
    is_postgres,
    mark_locked,
    write_transaction,
)
from app.errors import Conflict, NotFound, Unprocessable
from app.events import LedgerEvent, emit
from app.models import Account, Entry, EntryLine
from app.money import MAX_FEN, format_fen

MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)


@dataclass(frozen=True)
class LineInput:
    account: str
    debit: int = 0
    credit: int = 0
    memo: str = ""


@dataclass(frozen=True)
class EntryInput:
    date: dt.date
    memo: str
    lines: tuple[LineInput, ...]
    source: str = "manual"
    category_key: str | None = None
    paid_with: str | None = None


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What the checks may look at; loaded once per posting."""

    accounts: dict[str, Account]
    parents: set[str]
    closed_months: set[str]
    posting: bool


Check = Callable[[EntryInput, Context], list[Problem]]


def check_line_count(e: EntryInput, ctx: Context) -> list[Problem]:
    if len(e.lines) < 2:
        return [Problem("too_few_lines", "An entry needs at least two lines")]
    if len(e.lines) > 200:
        return [Problem("too_many_lines", "An entry has at most 200 lines")]
    return []


def check_line_sides(e: EntryInput, ctx: Context) -> list[Problem]:
    out = []
    for i, line in enumerate(e.lines):
        if (line.debit > 0) == (line.credit > 0) or line.debit < 0 or line.credit < 0:
            out.append(
                Problem(
                    "invalid_line",
                    f"line {i + 1}: exactly one of debit or credit, greater than zero",
                    {"line": i + 1},
                )
            )
        elif max(line.debit, line.credit) > MAX_FEN:
            out.append(
                Problem("invalid_amount", f"line {i + 1}: amount too large", {"line": i + 1})
            )
    return out


def check_balanced(e: EntryInput, ctx: Context) -> list[Problem]:
    debit = sum(line.debit for line in e.lines)
    credit = sum(line.credit for line in e.lines)
    if debit != credit:
        return [
            Problem(
                "unbalanced",
                f"Debits ({format_fen(debit)}) do not equal credits ({format_fen(credit)})",
                {"total_debit": format_fen(debit), "total_credit": format_fen(credit)},
            )
        ]
    return []


def check_accounts(e: EntryInput, ctx: Context) -> list[Problem]:
    out = []
    for i, line in enumerate(e.lines):
        acct = ctx.accounts.get(line.account)
        where = {"line": i + 1, "account": line.account}
        if acct is None:
            out.append(
                Problem(
                    "unknown_account", f"line {i + 1}: account {line.account} does not exist", where
                )
            )
        elif not acct.is_active:
            out.append(
                Problem(
                    "inactive_account", f"line {i + 1}: account {line.account} is inactive", where
                )
            )
        elif line.account in ctx.parents:
            out.append(
                Problem(
                    "account_not_leaf",
                    f"line {i + 1}: account {line.account} has sub-accounts; post to one of them",
                    where,
                )
            )
    return out


def check_date(e: EntryInput, ctx: Context) -> list[Problem]:
    if not MIN_DATE <= e.date <= MAX_DATE:
        return [Problem("invalid_date", f"date must be between {MIN_DATE} and {MAX_DATE}")]
    if ctx.posting and e.date.strftime("%Y-%m") in ctx.closed_months:
        return [
            Problem("period_closed", f"{e.date:%Y-%m} is closed; nothing can be posted into it")
        ]
    return []


CHECKS: list[Check] = [
    check_line_count,
    check_line_sides,
    check_balanced,
    check_accounts,
    check_date,
]

# Problems that are about the state of the books rather than a malformed request.
_CONFLICTS = {"period_closed"}


_ACCOUNT_COLUMNS = (
    "id",
    "code",
    "name",
    "name_en",
    "type",
    "normal_side",
    "parent_code",
    "is_active",
)
_ACCOUNT_SELECT = ", ".join(f'"{c}"' for c in _ACCOUNT_COLUMNS)


def load_context(business_id: int, entry: EntryInput, posting: bool) -> Context:
    """Everything the checks read, in two fixed queries (every posting runs them): the lines'
    accounts and any children they have (which make them non-leaf), and whether the month is
    closed."""
    codes = sorted({line.account for line in entry.lines})
    marks = ", ".join("?" * len(codes))
    rows = fetchall(
        f'SELECT {_ACCOUNT_SELECT} FROM "account" '
        f'WHERE "business_id" = ? AND ("code" IN ({marks}) OR "parent_code" IN ({marks}))',
        business_id,
        *codes,
        *codes,
    )
    accounts: dict[str, Account] = {}
    parents: set[str] = set()
    for row in rows:
        values = dict(zip(_ACCOUNT_COLUMNS, row, strict=True))
        if values["code"] in codes:
            values["is_active"] = bool(values["is_active"])
            accounts[values["code"]] = Account(business=business_id, **values)
        if values["parent_code"] in codes:
            parents.add(values["parent_code"])
    month = entry.date.strftime("%Y-%m")
    closed_row = fetchone(
        'SELECT 1 FROM "closed_period" WHERE "business_id" = ? AND "month" = ?', business_id, month
    )
    return Context(accounts, parents, {month} if closed_row else set(), posting)


def validate(business_id: int, entry: EntryInput, posting: bool = True) -> Context:
    ctx = load_context(business_id, entry, posting)
    problems = [p for check in CHECKS for p in check(entry, ctx)]
    if problems:
        first = problems[0]
        cls = Conflict if first.code in _CONFLICTS else Unprocessable
        raise cls(
            first.message,
            code=first.code,
            details={
                "problems": [{"code": p.code, "message": p.message, **p.details} for p in problems]
            },
        )
    return ctx


def _lock_business(business_id: int) -> None:
    """Serialise writers of one business (entry numbers, and the chain's next index).

    SQLite's BEGIN IMMEDIATE already holds the database's write lock, so nothing more is needed
    there; PostgreSQL locks the business row until commit.
    """
    if not is_postgres() or holds_lock(("business", business_id)):
        return
    if fetchone('SELECT "id" FROM "business" WHERE "id" = ? FOR UPDATE', business_id) is None:
        raise NotFound("Business not found", code="business_not_found")
    mark_locked(("business", business_id))


_ENTRY_COLUMNS = (
    '"business_id", "number", "date", "memo", "status", "source", "category_key", "paid_with", '
    '"reverses_id", "created_by_id", "created_at", "posted_by_id", "posted_at"'
)
# The next voucher number and the insert in one statement; a posting also re-checks, in the
# same statement, that its month is still open (validate() ran before the lock was taken).
_INSERT_ENTRY = (
    f'INSERT INTO "entry" ({_ENTRY_COLUMNS}) '
    "SELECT ?, m.n, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
    'FROM (SELECT COALESCE(MAX("number"), 0) + 1 AS n FROM "entry" WHERE "business_id" = ?) m '
    "{guard}"
    'RETURNING "id", "number"'
)
_OPEN_MONTH = (
    'WHERE NOT EXISTS (SELECT 1 FROM "closed_period" WHERE "business_id" = ? AND "month" = ?) '
)
# One line, inserted only if its account is still an active leaf (re-checked under the lock).
_LINE_SELECT = (
    'SELECT ?, ?, a."id", ?, ?, ? FROM "account" a WHERE a."id" = ? AND a."is_active" '
    'AND NOT EXISTS (SELECT 1 FROM "account" c WHERE c."business_id" = a."business_id" '
    'AND c."parent_code" = a."code")'
)
# The re-check of the stored lines also reads the size of the business's chain log, under the
# lock, for the leaf that records the posting (chain_store.known_log_size): one statement fewer.
_LINES_STORED = (
    'SELECT COALESCE(SUM("debit"), 0), COALESCE(SUM("credit"), 0), COUNT(*), '
    f"{LOG_SIZE_SQL} "
    'FROM "entry_line" WHERE "entry_id" = ?'
)


@lru_cache(maxsize=64)
def _insert_sql(posting: bool, lines: int, postgres: bool) -> tuple[str, str]:
    entry = _INSERT_ENTRY.format(guard=_OPEN_MONTH if posting else "")
    lines_sql = (
        'INSERT INTO "entry_line" ("entry_id", "line_no", "account_id", "debit", "credit", '
        '"memo") ' + " UNION ALL ".join([_LINE_SELECT] * lines)
    )
    if postgres:
        # One round trip each: lock the business row, then number and insert (a new statement,
        # so it sees everything committed before the lock was granted); insert the lines, then
        # read back what was stored.
        entry = 'SELECT "id" FROM "business" WHERE "id" = ? FOR UPDATE; ' + entry
        lines_sql = lines_sql + "; " + _LINES_STORED
    return entry, lines_sql


def _write_rows(
    business_id: int, entry: EntryInput, ctx: Context, values: list[object], posting: bool
) -> tuple[int, int, int]:
    """Insert the entry and its lines under the business lock; (id, number, size of the chain
    log). Returns only if the stored lines are exactly the ones given, balanced, on accounts
    that are still active leaves, and (for a posting) the month is still open."""
    pg = is_postgres()
    entry_sql, lines_sql = _insert_sql(posting, len(entry.lines), pg)
    params: list[object] = []
    if pg:
        params.append(business_id)
    params += [business_id, *values, business_id]
    if posting:
        params += [business_id, entry.date.strftime("%Y-%m")]
    try:
        row = execute(entry_sql, params).fetchone()
    except IntegrityError as exc:
        # No query here: on PostgreSQL the transaction is aborted. The business row the lock
        # asked for is gone when the insert breaks the entry's foreign key to it.
        if pg and "entry_business_id" in str(exc):
            raise NotFound("Business not found", code="business_not_found") from None
        raise
    if pg:
        mark_locked(("business", business_id))
    if row is None:  # the month was closed after validate() read it
        validate(business_id, entry, posting=posting)
        raise Conflict(f"{entry.date:%Y-%m} is closed", code="period_closed")
    entry_id, number = row
    params = []
    for i, line in enumerate(entry.lines):
        acct = ctx.accounts[line.account]
        params += [entry_id, i + 1, line.debit, line.credit, line.memo, acct.id]
    if pg:
        stored = execute(lines_sql, [*params, business_id, entry_id]).fetchone()
    else:
        execute(lines_sql, params)
        stored = execute(_LINES_STORED, (business_id, entry_id)).fetchone()
    debit, credit, count, log_size = stored
    if count != len(entry.lines):
        # An account changed after validate() read it: report it as validate() would.
        validate(business_id, entry, posting=posting)
        raise Conflict("The accounts changed while posting; retry", code="accounts_changed")
    if debit != credit or count < 2:
        raise AssertionError(f"entry {entry_id} stored unbalanced: {debit} != {credit}")
    return entry_id, number, log_size


def post_entry(
    business_id: int,
    entry: EntryInput,
    actor_id: int | None,
    *,
    status: str = "posted",
    reverses: Entry | None = None,
) -> Entry:
    """Validate and write one journal entry (posted, or a draft), all or nothing.

    The checks read before the write lock is taken (on SQLite, outside the transaction when
    this is the outermost write); the statements that write re-check, under the lock, what could
    have changed since (the month still open, the accounts still active leaves), so the lock is
    held only for the numbering, the inserts, the chain leaf and the commit.

    The returned row carries its serialised form (`serialised(row)`), built from what was just
    written rather than read back, so neither the chain's event nor the API response costs a query.
    """
    if status not in ("posted", "draft"):
        raise ValueError(status)
    posting = status == "posted"
    ctx = validate(business_id, entry, posting=posting)
    now = utcnow()
    reverses_id = reverses.id if reverses is not None else None
    values: list[object] = [
        entry.date,
        entry.memo,
        status,
        entry.source,
        entry.category_key,
        entry.paid_with,
        reverses_id,
        actor_id,
        now,
        actor_id if posting else None,
        now if posting else None,
    ]
    with write_transaction():
        entry_id, number, log_size = _write_rows(business_id, entry, ctx, values, posting)
        row = Entry(
            id=entry_id,
            business=business_id,
            number=number,
            date=entry.date,
            memo=entry.memo,
            status=status,
            source=entry.source,
            category_key=entry.category_key,
            paid_with=entry.paid_with,
            reverses=reverses_id,
            created_by=actor_id,
            created_at=now,
            posted_by=actor_id if posting else None,
            posted_at=now if posting else None,
        )
        row._dirty.clear()
        lines = [
            EntryLine(
                entry=entry_id,
                line_no=i + 1,
                account=ctx.accounts[line.account],
                debit=line.debit,
                credit=line.credit,
                memo=line.memo,
            )
            for i, line in enumerate(entry.lines)
        ]
        from app.services.entries import entry_dict  # serialisation lives with the read side

        row._serialised = entry_dict(row, lines)
        if posting:
            # Nothing was written since the log's size was read: the leaf need not read it.
            with known_log_size(business_id, log_size):
                _emit_posted(row, "entry.reversed" if reverses is not None else "entry.posted")
        return row


def serialised(row: Entry) -> dict[str, Any] | None:
    """The entry as post_entry wrote it, when this row came from post_entry."""
    return getattr(row, "_serialised", None)


def _emit_posted(row: Entry, event_type: str) -> None:
    from app.services.entries import entry_dict

    content: dict[str, Any] = {"entry": serialised(row) or entry_dict(row)}
    if row.reverses_id:
        content["reverses"] = row.reverses_id
    emit(LedgerEvent(event_type, row.business_id, row.posted_by_id, content))


def load_entry(business_id: int, entry_id: int) -> Entry:
    row = Entry.get_or_none((Entry.id == entry_id) & (Entry.business == business_id))
    if row is None:
        raise NotFound("Entry not found", code="entry_not_found")
    return row


def entry_input_from(
    row: Entry, *, swap: bool = False, date: dt.date | None = None, memo: str | None = None
) -> EntryInput:
    lines = (
        EntryLine.select(EntryLine, Account)
        .join(Account, JOIN.INNER)
        .where(EntryLine.entry == row.id)
        .order_by(EntryLine.line_no)
    )
    return EntryInput(
        date=date or row.date,
        memo=row.memo if memo is None else memo,
        lines=tuple(
            LineInput(
                account=ln.account.code,
                debit=ln.credit if swap else ln.debit,
                credit=ln.debit if swap else ln.credit,
                memo=ln.memo,
            )
            for ln in lines
        ),
        source=row.source,
        category_key=row.category_key,
        paid_with=row.paid_with,
    )


def post_draft(business_id: int, entry_id: int, actor_id: int) -> Entry:
    """Turn a draft into a posted entry; the checks run again, now including closed months."""
    with write_transaction():
        _lock_business(business_id)
        row = load_entry(business_id, entry_id)
        if row.status != "draft":
            raise Conflict("Only a draft can be posted", code="not_a_draft")
        validate(business_id, entry_input_from(row), posting=True)
        now = utcnow()
        Entry.update(status="posted", posted_by=actor_id, posted_at=now).where(
            (Entry.id == row.id) & (Entry.status == "draft")
        ).execute()
        row = load_entry(business_id, entry_id)
        _emit_posted(row, "entry.posted")
        return row


def delete_draft(business_id: int, entry_id: int) -> None:
    with write_transaction():
        row = load_entry(business_id, entry_id)
        if row.status != "draft":
            raise Conflict(
                "Posted entries are never deleted; reverse it instead", code="entry_posted"
            )
        EntryLine.delete().where(EntryLine.entry == row.id).execute()
        Entry.delete().where(Entry.id == row.id).execute()


def reverse_entry(
    business_id: int,
    entry_id: int,
    actor_id: int,
    date: dt.date | None = None,
    memo: str | None = None,
) -> Entry:
    """Post the mirror image of a posted entry (红字冲销 done as a reversing entry)."""
    with write_transaction():
        _lock_business(business_id)
        original = load_entry(business_id, entry_id)
        if original.status != "posted":
            raise Conflict(
                "Only a posted entry can be reversed; delete a draft instead", code="not_posted"
            )
        if original.reverses_id is not None:
            raise Conflict("A reversing entry cannot itself be reversed", code="is_reversal")
        if Entry.select().where(Entry.reverses == original.id).exists():
            raise Conflict(
                f"Entry {original.id} has already been reversed", code="already_reversed"
            )
        text = memo if memo is not None else f"冲销 第{original.number}号: {original.memo}"[:200]
        mirror = entry_input_from(original, swap=True, date=date or business_today(), memo=text)
        mirror = EntryInput(
            mirror.date,
            mirror.memo,
            mirror.lines,
            "reversal",
            original.category_key,
            original.paid_with,
        )
        return post_entry(business_id, mirror, actor_id, reverses=original)
