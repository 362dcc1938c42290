"""What a contract document may say, checked before it is ever stored or run.

A contract is data (docs/contracts.md): a trigger, a JsonLogic condition, actions and limits.
Validation refuses anything outside that: unknown keys, operations outside JsonLogic and the
book views, floats where money is meant (money is integer fen in expressions and decimal strings
in limits), and documents too large to review. The canonical JSON of a valid document is what
its version hash and its chain leaves commit to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from app.contracts.jsonlogic import STANDARD_OPS, JsonLogicError, operations_used
from app.errors import Unprocessable
from app.money import parse_amount
from chain.canonical import canonical_json
from chain.errors import ChainError

EVENT_TRIGGERS = ("claim.approved", "payment.received", "bill.due", "entry.posted")
SCHEDULE_EVERY = ("month", "day")
ACTION_TYPES = ("pay", "post_entry", "settle", "reserve", "notify", "require_approval")
METHODS = ("manual", "wechatpay")
ROLES = ("owner", "bookkeeper")
# The documented book views: read-only operations a condition or expression may call.
BOOK_VIEW_OPS = frozenset({"balance", "paid_today"})
ALLOWED_OPS = STANDARD_OPS | BOOK_VIEW_OPS
MAX_DOCUMENT_BYTES = 16_000
MAX_ACTIONS = 10


def _fail(path: str, message: str) -> Unprocessable:
    return Unprocessable(f"{path}: {message}", code="invalid_contract", details={"path": path})


def _keys(obj: Any, path: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise _fail(path, "must be an object")
    unknown = set(obj) - required - optional
    if unknown:
        raise _fail(path, f"unknown field(s) {sorted(unknown)}")
    missing = required - set(obj)
    if missing:
        raise _fail(path, f"missing field(s) {sorted(missing)}")
    return obj


def _no_floats(obj: Any, path: str) -> None:
    if isinstance(obj, float):
        raise _fail(path, "no floats: money is integer fen, percentages decimal strings")
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            _no_floats(v, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _no_floats(v, f"{path}.{k}")


def check_expression(expr: Any, path: str) -> None:
    """An expression is JsonLogic limited to the standard operations and the book views."""
    try:
        used = operations_used(expr)
    except JsonLogicError as e:
        raise _fail(path, str(e)) from None
    outside = used - ALLOWED_OPS
    if outside:
        raise _fail(path, f"operation(s) {sorted(outside)} are not JsonLogic or a book view")


def _string(obj: dict[str, Any], key: str, path: str, max_len: int = 200) -> str:
    v = obj.get(key, "")
    if not isinstance(v, str) or len(v) > max_len:
        raise _fail(f"{path}.{key}", f"a string of at most {max_len} characters")
    return v


def _account(obj: dict[str, Any], key: str, path: str) -> str:
    v = obj.get(key)
    if not isinstance(v, str) or not v.isdigit() or not 4 <= len(v) <= 16:
        raise _fail(f"{path}.{key}", "an account code (4-16 digits)")
    return v


def _money(obj: dict[str, Any], key: str, path: str) -> int:
    try:
        return parse_amount(obj.get(key), field=f"{path}.{key}", allow_zero=True)
    except Unprocessable as e:
        raise _fail(f"{path}.{key}", f'a decimal string such as "500.00" ({e})') from None


def _percent(obj: dict[str, Any], key: str, path: str) -> None:
    v = obj.get(key)
    # basis points via parse_amount: "12.5" -> 1250; 0 < p <= 100
    bp = _money(obj, key, path) if isinstance(v, str) else -1
    if not 0 < bp <= 10_000:
        raise _fail(f"{path}.{key}", 'a percentage as a decimal string, e.g. "10" or "12.5"')


def _check_trigger(t: Any) -> None:
    if isinstance(t, dict) and "schedule" in t:
        _keys(t, "trigger", {"schedule"}, set())
        s = _keys(t["schedule"], "trigger.schedule", {"every"}, {"day"})
        if s["every"] not in SCHEDULE_EVERY:
            raise _fail("trigger.schedule.every", f"one of {list(SCHEDULE_EVERY)}")
        if s["every"] == "month":
            day = s.get("day", 1)
            if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 28:
                raise _fail("trigger.schedule.day", "a day of the month, 1-28")
        elif "day" in s:
            raise _fail("trigger.schedule.day", "only for every=month")
        return
    _keys(t, "trigger", {"event"}, set())
    if t["event"] not in EVENT_TRIGGERS:
        raise _fail("trigger.event", f"one of {list(EVENT_TRIGGERS)}, or a schedule")


def _check_action(a: Any, path: str) -> None:
    if not isinstance(a, dict) or a.get("type") not in ACTION_TYPES:
        raise _fail(f"{path}.type", f"one of {list(ACTION_TYPES)}")
    kind = a["type"]
    if kind == "pay":
        _keys(
            a,
            path,
            {"type", "payee", "amount", "from_account", "to_account"},
            {"payee_name", "memo", "method", "target"},
        )
        for k in ("payee", "amount", "payee_name"):
            if k in a:
                check_expression(a[k], f"{path}.{k}")
        _account(a, "from_account", path)
        _account(a, "to_account", path)
        _string(a, "memo", path)
        if a.get("method", "manual") not in METHODS:
            raise _fail(f"{path}.method", f"one of {list(METHODS)}")
        if a.get("target", "") not in ("", "bill", "claim"):
            raise _fail(f"{path}.target", '"bill", "claim" or omitted')
    elif kind == "post_entry":
        _keys(a, path, {"type", "lines"}, {"memo"})
        _string(a, "memo", path)
        lines = a["lines"]
        if not isinstance(lines, list) or not 2 <= len(lines) <= 10:
            raise _fail(f"{path}.lines", "2 to 10 lines")
        for i, line in enumerate(lines):
            lp = f"{path}.lines[{i}]"
            _keys(line, lp, {"account"}, {"debit", "credit"})
            _account(line, "account", lp)
            if ("debit" in line) == ("credit" in line):
                raise _fail(lp, "exactly one of debit or credit")
            check_expression(line.get("debit", line.get("credit")), lp)
    elif kind == "settle":
        _keys(a, path, {"type", "kind", "reference", "to_account"}, set())
        if a["kind"] != "receivable":
            raise _fail(f"{path}.kind", '"receivable" (payables are settled by pay)')
        check_expression(a["reference"], f"{path}.reference")
        _account(a, "to_account", path)
    elif kind == "reserve":
        _keys(a, path, {"type", "percent", "of", "from_account", "to_account"}, {"memo"})
        _percent(a, "percent", path)
        check_expression(a["of"], f"{path}.of")
        _account(a, "from_account", path)
        _account(a, "to_account", path)
        _string(a, "memo", path)
    elif kind == "notify":
        _keys(a, path, {"type", "message"}, set())
        _string(a, "message", path)
    elif kind == "require_approval":
        _keys(a, path, {"type", "roles"}, {"above"})
        roles = a["roles"]
        if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
            raise _fail(f"{path}.roles", f"a non-empty list of {list(ROLES)}")
        if "above" in a:
            _money(a, "above", path)


def _check_limits(limits: Any) -> None:
    _keys(limits, "limits", set(), {"per_run", "per_day", "per_payee_day", "payees"})
    for k in ("per_run", "per_day", "per_payee_day"):
        if k in limits:
            _money(limits, k, "limits")
    if "payees" in limits:
        p = limits["payees"]
        if not isinstance(p, list) or any(not isinstance(x, str) or not x for x in p):
            raise _fail("limits.payees", "a list of payee ids (the allow-list)")


def validate(doc: Any) -> dict[str, Any]:
    """Refuse anything a contract may not say; return the document unchanged when valid."""
    _keys(
        doc,
        "contract",
        {"name", "trigger", "actions"},
        {"condition", "limits", "priority", "description"},
    )
    _no_floats(doc, "contract")
    name = doc["name"]
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise _fail("name", "1-100 characters")
    _string(doc, "description", "contract", 500)
    prio = doc.get("priority", 100)
    if not isinstance(prio, int) or isinstance(prio, bool) or not 0 <= prio <= 1000:
        raise _fail("priority", "an integer 0-1000 (lower runs first)")
    _check_trigger(doc["trigger"])
    check_expression(doc.get("condition", True), "condition")
    actions = doc["actions"]
    if not isinstance(actions, list) or not 1 <= len(actions) <= MAX_ACTIONS:
        raise _fail("actions", f"1 to {MAX_ACTIONS} actions")
    for i, a in enumerate(actions):
        _check_action(a, f"actions[{i}]")
    _check_limits(doc.get("limits", {}))
    if len(canonical(doc)) > MAX_DOCUMENT_BYTES:
        raise _fail("contract", f"larger than {MAX_DOCUMENT_BYTES} bytes")
    return doc


def canonical(doc: dict[str, Any]) -> bytes:
    try:
        return canonical_json(doc)
    except ChainError as e:
        raise _fail("contract", f"not canonicalizable: {e}") from None


def version_hash(doc: dict[str, Any]) -> str:
    """Hex SHA-256 of the canonical document: what deployments and runs commit to."""
    return hashlib.sha256(canonical(doc)).hexdigest()


ACCOUNT_KEYS = ("from_account", "to_account")


def account_codes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, code) for every account a valid document names, so the business's chart can be
    checked when the contract is saved or deployed instead of when a payment succeeds."""
    out = []
    for i, a in enumerate(doc["actions"]):
        path = f"actions[{i}]"
        out += [(f"{path}.{k}", a[k]) for k in ACCOUNT_KEYS if k in a]
        for j, line in enumerate(a.get("lines", []) if a["type"] == "post_entry" else []):
            out.append((f"{path}.lines[{j}].account", line["account"]))
    return out


@dataclass(frozen=True)
class Limits:
    per_run: int | None
    per_day: int | None
    per_payee_day: int | None
    payees: tuple[str, ...] | None


def limits_of(doc: dict[str, Any]) -> Limits:
    raw = doc.get("limits", {})

    def fen(key: str) -> int | None:
        return parse_amount(raw[key], allow_zero=True) if key in raw else None

    payees = raw.get("payees")
    return Limits(
        fen("per_run"), fen("per_day"), fen("per_payee_day"), tuple(payees) if payees else None
    )


def trigger_type(doc: dict[str, Any]) -> str:
    """The event type that fires it; schedules fire on `schedule.due` leaves."""
    t = doc["trigger"]
    return "schedule.due" if "schedule" in t else t["event"]
