"""Running contracts on the log: every leaf is an event; matching enabled contracts run once.

The engine reads a business's log from its cursor (`process_pending`), so it sees exactly the
events the chain recorded, in order, and can be run by the scheduler or on demand without
hooks inside other people's transactions. A run is unique per (contract version, triggering
leaf hash): the same event delivered twice does one thing. Each run is a `contract.run` leaf with
the triggering leaf's hash, the version hash, the decision and the actions, followed by the
leaves of its effects (payments, entries), all in one transaction.

Loop guard: entries a contract posted (source "contract") do not trigger `entry.posted`
contracts. Contracts on one event run by priority (lower first, then id); a pay action whose
bill or claim another contract is already paying is skipped and says which one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from peewee import IntegrityError

from app.chain_store import next_leaf_index
from app.clock import business_today, iso_utc, utcnow
from app.contracts.decide import Decision, decide
from app.contracts.document import trigger_type
from app.contracts.views import book_ops, paid_today, view_data
from app.db import fetchone, write_transaction
from app.errors import ApiError
from app.events import LedgerEvent, emit
from app.models import ChainLeaf, Contract, ContractCursor, ContractRun, ContractVersion, Payment
from app.money import parse_amount
from app.payments import books
from app.payments import service as payments
from app.services.posting import EntryInput, LineInput, _lock_business, post_entry
from chain.hashing import leaf_hash

log = logging.getLogger("suanpan.contracts")

TRIGGER_TYPES = ("claim.approved", "payment.received", "bill.due", "entry.posted", "schedule.due")
BATCH = 500


def _fen(text: str) -> int:
    return parse_amount(text, allow_zero=True)


def _triggers(kind: str, content: dict[str, Any]) -> bool:
    if kind not in TRIGGER_TYPES:
        return False
    if kind == "entry.posted" and content.get("entry", {}).get("source") == "contract":
        return False
    return not (kind == "claim.approved" and content.get("final") is False)


def _candidates(business_id: int, kind: str, content: dict[str, Any], idx: int) -> list[Contract]:
    q = Contract.select().where(
        (Contract.business == business_id)
        & (Contract.enabled == True)  # noqa: E712
        & (Contract.deployed_leaf < idx)
    )
    out = []
    for c in q.order_by(Contract.priority, Contract.id):
        doc = json.loads(_deployed(c).document)
        if trigger_type(doc) != kind:
            continue
        if kind == "schedule.due" and content.get("contract") != c.id:
            continue
        out.append(c)
    return out


def _deployed(c: Contract) -> ContractVersion:
    return ContractVersion.get(
        (ContractVersion.contract == c.id) & (ContractVersion.version == c.deployed_version)
    )


def _spent_today(contract_id: int, today: dt.date) -> int:
    row = fetchone(
        "SELECT COALESCE(SUM(p.amount), 0) FROM payment p JOIN contract_run r ON r.id = p.run_id "
        "WHERE r.contract_id = ? AND p.business_date = ? "
        "AND p.status NOT IN ('failed', 'cancelled')",
        contract_id,
        today,
    )
    return int(row[0]) if row else 0


def _conflict(business_id: int, target: str, target_id: Any) -> Payment | None:
    if not target or target_id is None:
        return None
    return (
        Payment.select()
        .where(
            (Payment.business == business_id)
            & (Payment.target_kind == target)
            & (Payment.target_id == target_id)
            & (Payment.status.not_in(("failed", "cancelled")))
        )
        .first()
    )


def _target_id(action: dict[str, Any], event: dict[str, Any]) -> Any:
    return {"bill": event.get("bill"), "claim": event.get("claim")}.get(action.get("target", ""))


def process_leaf(business_id: int, idx: int, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Run every matching contract on leaf `idx` (each at most once). Returns the runs made."""
    leaf = ChainLeaf.get_or_none((ChainLeaf.business_id == business_id) & (ChainLeaf.idx == idx))
    if leaf is None:
        return []
    content = json.loads(leaf.data)["content"]
    if not _triggers(leaf.type, content):
        return []
    made = []
    for c in _candidates(business_id, leaf.type, content, idx):
        run = _run_one(c, leaf, content, today or business_today())
        if run is not None:
            made.append(run)
    return made


def _run_one(
    c: Contract, leaf: ChainLeaf, content: dict[str, Any], today: dt.date
) -> dict[str, Any] | None:
    v = _deployed(c)
    trigger_hash = leaf_hash(leaf.data.encode("utf-8")).hex()
    created: list[int] = []
    try:
        with write_transaction():
            _lock_business(c.business_id)
            if not _still_deployed(c) or ContractRun.get_or_none(
                (ContractRun.version == v.id) & (ContractRun.trigger_hash == trigger_hash)
            ):
                return None
            doc = json.loads(v.document)
            data = view_data(c.business_id, leaf.type, content, today)
            decision = decide(
                doc,
                data,
                book_ops(c.business_id, today),
                _spent_today(c.id, today),
                lambda payee: paid_today(c.business_id, payee, today),
            )
            _resolve_conflicts(c, decision, data["event"])
            run, created = _record_and_execute(c, v, leaf, trigger_hash, decision, data["event"])
    except IntegrityError:
        return None  # another engine recorded this run first
    except ApiError as e:  # an effect was refused (closed month, missing account...): say so
        with write_transaction():
            _lock_business(c.business_id)
            if not _still_deployed(c) or ContractRun.get_or_none(
                (ContractRun.version == v.id) & (ContractRun.trigger_hash == trigger_hash)
            ):
                return None
            failed = Decision("error", f"{e.code}: {e}"[:300])
            run, created = _record_and_execute(c, v, leaf, trigger_hash, failed, {})
    for pid in created:
        payments.submit(c.business_id, pid)
    from app.contracts.service import run_dict

    return run_dict(run)


def _still_deployed(c: Contract) -> bool:
    """Re-read under the business lock: a contract disabled or redeployed since the candidates
    were listed must not fire with what it was (the log would show a run after the disable)."""
    now = Contract.get_or_none(Contract.id == c.id)
    return now is not None and now.enabled and now.deployed_version == c.deployed_version


def _resolve_conflicts(c: Contract, decision: Decision, event: dict[str, Any]) -> None:
    if decision.decision != "fired":
        return
    kept = []
    for a in decision.actions:
        if a["type"] == "pay":
            other = _conflict(c.business_id, a.get("target", ""), _target_id(a, event))
            if other is not None:
                by = ContractRun.get_or_none(ContractRun.id == other.run_id)
                who = f"contract {by.contract_id}" if by else "a payment made by hand"
                a = {**a, "skipped": f"conflict: {a['target']} already paid by {who}"}
        kept.append(a)
    decision.actions = kept
    if (
        kept
        and all("skipped" in a for a in kept if a["type"] == "pay")
        and all(a["type"] in ("pay", "notify") for a in kept)
    ):
        decision.decision, decision.reason = "skipped", "conflict with a higher-priority contract"


def _record_and_execute(
    c: Contract,
    v: ContractVersion,
    leaf: ChainLeaf,
    trigger_hash: str,
    decision: Decision,
    event: dict[str, Any],
) -> tuple[ContractRun, list[int]]:
    actor = c.deployed_by_id
    run = ContractRun.create(
        business=c.business_id,
        contract=c.id,
        version=v.id,
        trigger_leaf=leaf.idx,
        trigger_hash=trigger_hash,
        event_type=leaf.type,
        decision=decision.decision,
        reason=decision.reason[:300],
        actions=json.dumps(decision.actions, ensure_ascii=False),
        run_leaf=next_leaf_index(c.business_id),
        created_at=utcnow(),
    )
    emit(
        LedgerEvent(
            "contract.run",
            c.business_id,
            actor,
            {
                "contract": c.id,
                "run": run.id,
                "version": v.version,
                "version_hash": v.hash,
                "trigger": {"leaf": leaf.idx, "hash": trigger_hash, "type": leaf.type},
                **decision.summary(),
            },
        )
    )
    created: list[int] = []
    if decision.decision != "fired":
        return run, created
    for a in decision.actions:
        if a.get("skipped"):
            continue
        if a["type"] == "pay":
            p = payments.create_payment(
                c.business_id,
                actor,
                payee=a["payee"],
                payee_name=a["payee_name"],
                amount=_fen(a["amount"]),
                from_account=a["from_account"],
                to_account=a["to_account"],
                method=a["method"],
                memo=a["memo"] or f"{c.name}",
                target_kind=a["target"],
                target_id=_target_id(a, event),
                approval_roles=a.get("approval_roles"),
                run_id=run.id,
            )
            if p.status == "created":
                created.append(p.id)
            if a["target"] == "bill":
                from app.models import Bill

                Bill.update(status="paying").where(Bill.id == event.get("bill")).execute()
        elif a["type"] in ("post_entry", "reserve"):
            lines = (
                tuple(
                    LineInput(
                        ln["account"],
                        debit=_fen(ln.get("debit", "0")),
                        credit=_fen(ln.get("credit", "0")),
                    )
                    for ln in a["lines"]
                )
                if a["type"] == "post_entry"
                else (
                    LineInput(a["to_account"], debit=_fen(a["amount"])),
                    LineInput(a["from_account"], credit=_fen(a["amount"])),
                )
            )
            post_entry(
                c.business_id,
                EntryInput(
                    date=business_today(),
                    memo=(a.get("memo") or c.name)[:200],
                    lines=lines,
                    source="contract",
                ),
                actor,
            )
        elif a["type"] == "settle":
            amount = event.get("amount") if isinstance(event.get("amount"), int) else None
            books.settle_receivable(c.business_id, a["reference"], a["to_account"], actor, amount)
    return run, created


def process_pending(business_id: int, today: dt.date | None = None) -> int:
    """Read the log from the cursor to its end; returns the number of runs made."""
    cursor = ContractCursor.get_or_none(ContractCursor.business == business_id)
    start = cursor.next_leaf if cursor else 0
    end = next_leaf_index(business_id)
    runs = 0
    has_contracts = (
        Contract.select()
        .where((Contract.business == business_id) & (Contract.enabled == True))  # noqa: E712
        .exists()
    )
    idx = start
    while has_contracts and idx < end:
        runs += len(process_leaf(business_id, idx, today))
        idx += 1
        end = max(end, next_leaf_index(business_id)) if idx == end else end
    with write_transaction():
        if cursor is None:
            ContractCursor.insert(
                business=business_id, next_leaf=idx
            ).on_conflict_ignore().execute()
        ContractCursor.update(next_leaf=idx).where(
            (ContractCursor.business == business_id) & (ContractCursor.next_leaf < idx)
        ).execute()
    return runs


def announce_schedules(business_id: int, today: dt.date | None = None) -> int:
    """Emit `schedule.due` once per period for every enabled scheduled contract."""
    today = today or business_today()
    count = 0
    with write_transaction():
        _lock_business(business_id)
        q = Contract.select().where(
            (Contract.business == business_id) & (Contract.enabled == True)  # noqa: E712
        )
        for c in q.order_by(Contract.priority, Contract.id):
            trig = json.loads(_deployed(c).document)["trigger"]
            if "schedule" not in trig:
                continue
            period = _period(trig["schedule"], today)
            if period is None or c.last_period == period:
                continue
            c.last_period = period
            c.save()
            emit(
                LedgerEvent(
                    "schedule.due",
                    business_id,
                    None,
                    {"contract": c.id, "period": period, "date": today.isoformat()},
                )
            )
            count += 1
    return count


def _period(schedule: dict[str, Any], today: dt.date) -> str | None:
    if schedule["every"] == "day":
        return today.isoformat()
    if today.day < schedule.get("day", 1):
        return None
    return today.strftime("%Y-%m")


def tick(business_id: int, today: dt.date | None = None) -> int:
    """One engine pass for a business: announce due bills and schedules, then run."""
    books.announce_due_bills(business_id, today)
    announce_schedules(business_id, today)
    return process_pending(business_id, today)


def tick_all(today: dt.date | None = None) -> int:
    """The scheduler's job: every business with an enabled contract."""
    ids = [
        r.business_id
        for r in Contract.select(Contract.business)
        .where(Contract.enabled == True)  # noqa: E712
        .distinct()
    ]
    runs = 0
    for bid in ids:
        try:
            runs += tick(bid, today)
        except Exception:  # one business must not stop the others
            log.exception("contract engine failed for business %s", bid)
    return runs


def dry_run(business_id: int, contract_id: int, version: int | None, months: int) -> dict[str, Any]:
    """Replay a version over the last `months` of the log: what it would have done. Reads only."""
    from app.contracts.service import _version, load

    c = load(business_id, contract_id)
    v = _version(c.id, version or c.deployed_version or 1)
    doc = json.loads(v.document)
    kind = trigger_type(doc)
    since = utcnow() - dt.timedelta(days=31 * months)
    spent: dict[str, int] = {}
    per_payee: dict[tuple[str, str], int] = {}
    results = []
    events: list[tuple[int | None, str, dict[str, Any], dt.date]] = []
    if kind == "schedule.due":
        day = since.date()
        while day <= business_today():
            period = _period(doc["trigger"]["schedule"], day)
            if period and (not events or events[-1][2]["period"] != period):
                events.append((None, kind, {"contract": c.id, "period": period}, day))
            day += dt.timedelta(days=1)
    else:
        q = ChainLeaf.select().where(
            (ChainLeaf.business_id == business_id)
            & (ChainLeaf.type == kind)
            & (ChainLeaf.time >= since)
        )
        for leaf in q.order_by(ChainLeaf.idx):
            content = json.loads(leaf.data)["content"]
            if _triggers(kind, content):
                events.append((leaf.idx, kind, content, leaf.time.date()))
    for idx, k, content, day in events[:1000]:
        data = view_data(business_id, k, content, day)
        key = day.isoformat()
        d = decide(
            doc,
            data,
            book_ops(business_id, day),
            spent.get(key, 0),
            lambda payee, key=key: per_payee.get((key, payee), 0),
        )
        for a in d.actions:
            if a["type"] == "pay":
                spent[key] = spent.get(key, 0) + _fen(a["amount"])
                per_payee[(key, a["payee"])] = per_payee.get((key, a["payee"]), 0) + _fen(
                    a["amount"]
                )
        results.append({"leaf": idx, "date": key, "event": data["event"], **d.summary()})
    return {
        "contract": c.id,
        "version": v.version,
        "hash": v.hash,
        "months": months,
        "since": iso_utc(since),
        "evaluated": len(results),
        "fired": sum(1 for r in results if r["decision"] == "fired"),
        "results": results,
    }
