"""Warnings: store what the rules found, per rule and period, never twice; resolve what cleared.

State machine of a stored warning (one row per business, rule and period key, unique index):

    (fires) -> open --acknowledge--> acknowledged
    open | acknowledged --(observed, no longer fires)--> resolved
    resolved --(fires again)--> open;  acknowledged --(escalates warn -> alert)--> open

Periods a run did not look at are left alone: last year's VAT alert stays what it was.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from peewee import Query

from app.clock import iso_utc, utcnow
from app.db import db, is_postgres, write_transaction
from app.errors import Conflict, NotFound
from app.models import Business, Entry
from app.models.tax import TaxWarning
from app.money import format_fen
from app.tax import registry
from app.tax.books import Books, Profile, load_profile
from app.tax.evaluate import Result, RuleFilter, evaluate
from app.tax.metrics import EntryQuery, fetch_entries
from app.tax.text import render

RANK = {"": 0, "warn": 1, "alert": 2}
NEEDS_CONFIRMATION = {
    "zh": "此数字需由您的税务顾问确认",
    "en": "needs confirmation by your tax adviser",
}


@dataclass
class CheckSummary:
    business_id: int
    as_of: dt.date
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    firing: list[dict[str, Any]] = field(default_factory=list)


def _business(business_id: int) -> Business:
    b = Business.get_or_none(Business.id == business_id)
    if b is None:
        raise NotFound("Business not found", code="business_not_found")
    return b


def check_business(
    business_id: int,
    as_of: dt.date,
    rule_filter: RuleFilter | None = None,
    profile: Profile | None = None,
    books: Books | None = None,
    until: dt.date | None = None,
    start: dt.date | None = None,
    refresh: bool = True,
    prefixes: tuple[str, ...] | None = None,
    sync_sales: bool = False,
    has_invoices: bool | None = None,
) -> CheckSummary:
    """Evaluate the rules for one business on one business date and store the outcome.
    `has_invoices`: whether the business has any invoice reference, when the caller knows."""
    if profile is None:
        profile = load_profile(_business(business_id))
    loaded = books is None
    if books is None:
        books = Books.load(profile, as_of, until, start, prefixes)
        books.has_invoices = has_invoices
    results = evaluate(registry.packs(), profile, as_of, rule_filter, books)
    summary = CheckSummary(business_id, as_of)
    if not results and not sync_sales:
        return summary
    with write_transaction():
        writes: list[Query] = []
        if results:
            store(business_id, as_of, results, summary, refresh, writes)
        if sync_sales and loaded and prefixes is None:
            # Repair the month-sales aggregate (kept by the post-posting check) from the books.
            books.sync_month_sales(as_of.replace(day=1), writes)
        execute_batch(writes)
    return summary


def execute_batch(queries: list[Query]) -> None:
    """Run write statements in order, in the caller's transaction. PostgreSQL gets them in one
    round trip (one multi-statement string; psycopg2 binds the parameters client-side)."""
    if not queries:
        return
    if not is_postgres() or len(queries) == 1:
        for q in queries:
            q.execute()
        return
    parts = [q.sql() for q in queries]
    db.execute_sql("; ".join(sql for sql, _ in parts), [p for _, params in parts for p in params])


def store(
    business_id: int,
    as_of: dt.date,
    results: list[Result],
    summary: CheckSummary,
    refresh: bool = True,
    pending: list[Query] | None = None,
) -> None:
    """Write the outcome. With refresh=False (the post-posting check) a warning that keeps
    its severity and state is not rewritten: only changes are, the daily run refreshes figures.
    With `pending` the writes are appended to it for the caller to run (`execute_batch`)."""
    rule_ids = sorted({r.rule.id for r in results})
    keys = sorted({r.key for r in results})
    existing = {
        (w.rule_id, w.period_key): w
        for w in TaxWarning.select().where(
            (TaxWarning.business == business_id)
            & (TaxWarning.rule_id.in_(rule_ids))
            & (TaxWarning.period_key.in_(keys))
        )
    }
    now = utcnow()
    queries: list[Query] = [] if pending is None else pending
    new_rows: list[dict[str, Any]] = []
    writes: list[tuple[Result, TaxWarning | None, bool]] = []
    for res in results:
        row = existing.get((res.rule.id, res.key))
        if res.severity is None:
            if row is not None and row.state != "resolved":
                queries.append(
                    TaxWarning.update(state="resolved", resolved_at=now, as_of=as_of).where(
                        TaxWarning.id == row.id
                    )
                )
                summary.resolved += 1
            continue
        reopen = row is not None and (
            row.state == "resolved"
            or (row.state == "acknowledged" and RANK[res.severity] > RANK[row.severity])
        )
        if row is not None and not refresh and not reopen and row.severity == res.severity:
            continue
        writes.append((res, row, reopen))
    # The entries behind every warning written here, in one round trip.
    entry_lists = _entries_behind([res for res, _, _ in writes])
    for (res, row, reopen), entries in zip(writes, entry_lists, strict=True):
        values: dict[str, Any] = {
            "severity": res.severity,
            "figures": json.dumps(res.figures, ensure_ascii=False, sort_keys=True),
            "entry_ids": json.dumps(sorted(entries)),
            "unconfirmed": res.unconfirmed,
            "pack_id": res.pack.id,
            "pack_version": res.pack.version,
            "last_seen_at": now,
            "as_of": as_of,
        }
        summary.firing.append({"rule_id": res.rule.id, "period": res.key, "severity": res.severity})
        if row is None:
            new_rows.append(
                {
                    "business": business_id,
                    "rule_id": res.rule.id,
                    "period_key": res.key,
                    "state": "open",
                    "first_seen_at": now,
                    **values,
                }
            )
            summary.opened += 1
            continue
        if reopen:
            values.update(
                state="open", resolved_at=None, acknowledged_at=None, acknowledged_by=None
            )
            summary.opened += 1
        else:
            summary.updated += 1
        queries.append(TaxWarning.update(**values).where(TaxWarning.id == row.id))
    if new_rows:
        queries.append(TaxWarning.insert_many(new_rows))
    if pending is None:
        execute_batch(queries)


def _entries_behind(results: list[Result]) -> list[list[int]]:
    """Each result's entry ids: the metrics' entry queries run together (`fetch_entries`),
    lists a metric already holds are taken as they are."""
    out: list[list[int]] = [[] for _ in results]
    batched: list[tuple[int, EntryQuery]] = []
    for i, res in enumerate(results):
        entries = res.observation.entries
        if isinstance(entries, EntryQuery):
            batched.append((i, entries))
        elif entries:
            out[i] = entries()
    for (i, _), ids in zip(batched, fetch_entries([q for _, q in batched]), strict=True):
        out[i] = ids
    return out


# --- reading and acknowledging ----------------------------------------------------------------

STATES = {
    "active": ("open", "acknowledged"),
    "open": ("open",),
    "acknowledged": ("acknowledged",),
    "resolved": ("resolved",),
    "all": ("open", "acknowledged", "resolved"),
}


def _entries(ids: Iterable[int], business_id: int) -> dict[int, dict[str, Any]]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    out = {}
    for e in Entry.select().where((Entry.business == business_id) & (Entry.id.in_(ids))):
        out[e.id] = {"id": e.id, "number": e.number, "date": e.date.isoformat(), "memo": e.memo}
    return out


def warning_dict(w: TaxWarning, entries: dict[int, dict[str, Any]]) -> dict[str, Any]:
    figures = json.loads(w.figures)
    found = registry.find_rule(w.rule_id)
    if found is not None:
        text = render(found[1], figures)
        basis = found[1].basis
    else:  # the rule was removed from the pack since: keep what we know
        text = {lang: {"title": w.rule_id, "message": "", "note": ""} for lang in ("zh", "en")}
        basis = ""
    return {
        "id": w.id,
        "rule_id": w.rule_id,
        "period": w.period_key,
        "severity": w.severity,
        "state": w.state,
        "title": {lang: text[lang]["title"] for lang in text},
        "message": {lang: text[lang]["message"] for lang in text},
        "note": {lang: text[lang]["note"] for lang in text},
        "figures": figures,
        "entries": [entries[i] for i in json.loads(w.entry_ids) if i in entries],
        "basis": basis,
        "unconfirmed": w.unconfirmed,
        "needs_confirmation": NEEDS_CONFIRMATION if w.unconfirmed else None,
        "pack": {"id": w.pack_id, "version": w.pack_version},
        "as_of": w.as_of.isoformat(),
        "first_seen_at": iso_utc(w.first_seen_at),
        "last_seen_at": iso_utc(w.last_seen_at),
        "acknowledged_at": iso_utc(w.acknowledged_at),
        "resolved_at": iso_utc(w.resolved_at),
    }


def list_warnings(
    business_id: int, state: str = "active", limit: int = 200
) -> list[dict[str, Any]]:
    rows = list(
        TaxWarning.select()
        .where((TaxWarning.business == business_id) & (TaxWarning.state.in_(STATES[state])))
        .order_by(TaxWarning.severity == "warn", TaxWarning.last_seen_at.desc(), TaxWarning.id)
        .limit(limit)
    )
    ids = [i for w in rows for i in json.loads(w.entry_ids)]
    entries = _entries(ids, business_id)
    return [warning_dict(w, entries) for w in rows]


def acknowledge(business_id: int, ids: list[int], user_id: int) -> list[dict[str, Any]]:
    with write_transaction():
        rows = list(
            TaxWarning.select().where(
                (TaxWarning.business == business_id) & (TaxWarning.id.in_(ids))
            )
        )
        found = {w.id for w in rows}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(
                f"Warning {missing[0]} not found",
                code="warning_not_found",
                details={"ids": missing},
            )
        resolved = [w.id for w in rows if w.state == "resolved"]
        if resolved:
            raise Conflict(
                f"Warning {resolved[0]} is already resolved",
                code="warning_resolved",
                details={"ids": resolved},
            )
        TaxWarning.update(
            state="acknowledged", acknowledged_by=user_id, acknowledged_at=utcnow()
        ).where((TaxWarning.id.in_(ids)) & (TaxWarning.state == "open")).execute()
        rows = list(TaxWarning.select().where(TaxWarning.id.in_(ids)).order_by(TaxWarning.id))
    entries = _entries([i for w in rows for i in json.loads(w.entry_ids)], business_id)
    return [warning_dict(w, entries) for w in rows]


def counts(business_id: int) -> dict[str, int]:
    out = {"open": 0, "acknowledged": 0, "alert": 0, "warn": 0}
    for w in TaxWarning.select(TaxWarning.state, TaxWarning.severity).where(
        (TaxWarning.business == business_id) & (TaxWarning.state.in_(STATES["active"]))
    ):
        out[w.state] += 1
        out[w.severity] += 1
    return out


__all__ = ["check_business", "list_warnings", "acknowledge", "counts", "format_fen"]
