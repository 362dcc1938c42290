"""What a contract version decides for one event: a pure function of the document, the view and
the counters the limits need. The engine executes the decision; dry-run only collects it.

Keeping this free of writes is what makes a dry-run honest: the same code decides in both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.contracts.document import limits_of
from app.contracts.jsonlogic import JsonLogicError, apply, truthy
from app.money import MAX_FEN, format_fen

# Share in basis points of an amount in fen, rounded half up to the fen: exact integers only.


def share(amount: int, percent_bp: int) -> int:
    return (amount * percent_bp + 5_000) // 10_000


@dataclass
class Decision:
    decision: str  # fired | skipped | refused | error
    reason: str = ""
    actions: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"decision": self.decision, "reason": self.reason, "actions": self.actions}


class _Refuse(Exception):
    pass


def _fen_of(value: Any, path: str) -> int:
    """Expressions that mean money must produce a whole, positive number of fen."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Refuse(f"{path}: evaluated to {value!r}, not an amount in fen")
    if isinstance(value, float):
        if not value.is_integer():
            raise _Refuse(f"{path}: {value} is not a whole number of fen")
        value = int(value)
    if not 0 < value <= MAX_FEN:
        raise _Refuse(f"{path}: {value} fen is out of range")
    return value


def decide(
    doc: dict[str, Any],
    data: Any,
    ops: Mapping[str, Callable[..., Any]],
    spent_today: int,
    paid_to_payee_today: Callable[[str], int],
) -> Decision:
    """Evaluate condition and actions; apply limits and approval thresholds. No side effects."""
    try:
        if not truthy(apply(doc.get("condition", True), data, ops)):
            return Decision("skipped", "condition is false")
        return _plan(doc, data, ops, spent_today, paid_to_payee_today)
    except _Refuse as e:
        return Decision("refused", str(e))
    except JsonLogicError as e:
        return Decision("error", f"evaluation failed: {e}")


def _plan(
    doc: dict[str, Any],
    data: Any,
    ops: Mapping[str, Callable[..., Any]],
    spent_today: int,
    paid_to_payee_today: Callable[[str], int],
) -> Decision:
    def ev(expr: Any) -> Any:
        return apply(expr, data, ops)

    planned: list[dict[str, Any]] = []
    approval: dict[str, Any] | None = None
    for i, a in enumerate(doc["actions"]):
        kind = a["type"]
        if kind == "pay":
            payee = ev(a["payee"])
            if not isinstance(payee, str) or not payee:
                raise _Refuse(f"actions[{i}].payee: evaluated to {payee!r}, not a payee id")
            planned.append(
                {
                    "type": "pay",
                    "payee": payee,
                    "payee_name": str(ev(a.get("payee_name", "")) or "")[:100],
                    "amount": _fen_of(ev(a["amount"]), f"actions[{i}].amount"),
                    "from_account": a["from_account"],
                    "to_account": a["to_account"],
                    "memo": a.get("memo", ""),
                    "method": a.get("method", "manual"),
                    "target": a.get("target", ""),
                }
            )
        elif kind == "post_entry":
            lines = []
            for j, line in enumerate(a["lines"]):
                side = "debit" if "debit" in line else "credit"
                amt = _fen_of(ev(line[side]), f"actions[{i}].lines[{j}]")
                lines.append({"account": line["account"], side: amt})
            planned.append({"type": "post_entry", "memo": a.get("memo", ""), "lines": lines})
        elif kind == "settle":
            ref = ev(a["reference"])
            if not isinstance(ref, str) or not ref:
                raise _Refuse(f"actions[{i}].reference: evaluated to {ref!r}")
            planned.append(
                {
                    "type": "settle",
                    "kind": "receivable",
                    "reference": ref,
                    "to_account": a["to_account"],
                }
            )
        elif kind == "reserve":
            from app.money import parse_amount

            base = _fen_of(ev(a["of"]), f"actions[{i}].of")
            amount = share(base, parse_amount(a["percent"]))
            if amount > 0:
                planned.append(
                    {
                        "type": "reserve",
                        "amount": amount,
                        "from_account": a["from_account"],
                        "to_account": a["to_account"],
                        "memo": a.get("memo", ""),
                    }
                )
        elif kind == "notify":
            planned.append({"type": "notify", "message": a["message"]})
        elif kind == "require_approval":
            from app.money import parse_amount

            above = parse_amount(a["above"], allow_zero=True) if "above" in a else 0
            approval = {"roles": list(a["roles"]), "above": above}
    _check_limits(doc, planned, spent_today, paid_to_payee_today)
    for p in planned:
        if p["type"] == "pay" and approval is not None and p["amount"] > approval["above"]:
            p["approval_roles"] = approval["roles"]
    return Decision("fired", "", [_printable(p) for p in planned])


def _check_limits(
    doc: dict[str, Any],
    planned: list[dict[str, Any]],
    spent_today: int,
    paid_to_payee_today: Callable[[str], int],
) -> None:
    lim = limits_of(doc)
    pays = [p for p in planned if p["type"] == "pay"]
    run_total = sum(p["amount"] for p in pays)
    if lim.payees is not None:
        for p in pays:
            if p["payee"] not in lim.payees:
                raise _Refuse(f"payee {p['payee']} is not on the contract's allow-list")
    if lim.per_run is not None and run_total > lim.per_run:
        raise _Refuse(
            f"{format_fen(run_total)} exceeds the per-run limit {format_fen(lim.per_run)}"
        )
    if lim.per_day is not None and spent_today + run_total > lim.per_day:
        raise _Refuse(
            f"{format_fen(spent_today)} already paid today + {format_fen(run_total)} exceeds the "
            f"daily limit {format_fen(lim.per_day)}"
        )
    if lim.per_payee_day is not None:
        per: dict[str, int] = {}
        for p in pays:
            per[p["payee"]] = per.get(p["payee"], 0) + p["amount"]
        for payee, amt in per.items():
            if paid_to_payee_today(payee) + amt > lim.per_payee_day:
                raise _Refuse(
                    f"payments to {payee} today would exceed the per-payee limit "
                    f"{format_fen(lim.per_payee_day)}"
                )


def _printable(p: dict[str, Any]) -> dict[str, Any]:
    """Amounts as decimal strings, as everywhere in the API and the chain."""
    out = dict(p)
    if "amount" in out:
        out["amount"] = format_fen(out["amount"])
    if "lines" in out:
        out["lines"] = [
            {k: (format_fen(v) if k in ("debit", "credit") else v) for k, v in ln.items()}
            for ln in out["lines"]
        ]
    return out
