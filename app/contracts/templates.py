"""Contract templates: the owner fills in a form, the template writes the document.

Each template names its fields (with a kind the app renders: money, percent, account, text,
day, method) and builds an ordinary contract document from them, which then goes through the
same validation, versioning and deployment as a hand-written one. Nothing here is special to
the engine: a template is only a convenient way to write JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.errors import NotFound, Unprocessable
from app.money import parse_amount


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # money | percent | account | text | day | method
    label: str
    default: Any = None


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    description: str
    fields: tuple[Field, ...]
    build: Callable[[dict[str, Any]], dict[str, Any]]


def _fen(text: str) -> int:
    return parse_amount(text, allow_zero=False)


def _reimburse(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"自动报销（{p['max_amount']} 元以内）",
        "trigger": {"event": "claim.approved"},
        "condition": {"<=": [{"var": "event.amount"}, _fen(p["max_amount"])]},
        "actions": [
            {
                "type": "pay",
                "payee": {"var": "event.payee"},
                "amount": {"var": "event.amount"},
                "from_account": p["from_account"],
                "to_account": "2241",
                "target": "claim",
                "method": p["method"],
                "memo": "报销",
            }
        ],
        "limits": {"per_run": p["max_amount"], "per_day": p["daily_limit"]},
    }


def _pay_bills(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "到期支付供应商账单",
        "trigger": {"event": "bill.due"},
        "actions": [
            {
                "type": "pay",
                "payee": {"var": "event.payee"},
                "payee_name": {"var": "event.supplier"},
                "amount": {"var": "event.amount"},
                "from_account": p["from_account"],
                "to_account": "2202",
                "target": "bill",
                "method": p["method"],
                "memo": "应付账款",
            },
            {"type": "require_approval", "roles": ["owner"], "above": p["approval_above"]},
        ],
        "limits": {"per_run": p["max_amount"]},
    }


def _settle(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "收款自动核销",
        "trigger": {"event": "payment.received"},
        "condition": {"!!": {"var": "event.reference"}},
        "actions": [
            {
                "type": "settle",
                "kind": "receivable",
                "reference": {"var": "event.reference"},
                "to_account": p["to_account"],
            }
        ],
    }


def _reserve(p: dict[str, Any]) -> dict[str, Any]:
    income = p["income_account"]
    credited = {
        "reduce": [
            {"filter": [{"var": "event.lines"}, {"==": [{"var": "account"}, income]}]},
            {"+": [{"var": "accumulator"}, {"var": "current.credit"}]},
            0,
        ]
    }
    return {
        "name": f"每笔收入预留 {p['percent']}% 税款",
        "trigger": {"event": "entry.posted"},
        "condition": {"in": [income, {"var": "event.accounts"}]},
        "actions": [
            {
                "type": "reserve",
                "percent": p["percent"],
                "of": credited,
                "from_account": p["from_account"],
                "to_account": p["to_account"],
                "memo": "预留税款",
            }
        ],
    }


def _recurring(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"每月 {p['day']} 日 {p['memo']}",
        "trigger": {"schedule": {"every": "month", "day": p["day"]}},
        "actions": [
            {
                "type": "pay",
                "payee": p["payee"],
                "payee_name": p["payee_name"],
                "amount": _fen(p["amount"]),
                "from_account": p["from_account"],
                "to_account": p["to_account"],
                "method": p["method"],
                "memo": p["memo"],
            }
        ],
        "limits": {"per_run": p["amount"], "payees": [p["payee"]]},
    }


TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            "reimburse_claims",
            "自动报销已批准的报销单",
            "Pay an approved expense claim up to an amount.",
            (
                Field("max_amount", "money", "单笔上限", "500.00"),
                Field("daily_limit", "money", "每日上限", "2000.00"),
                Field("from_account", "account", "付款账户", "1002"),
                Field("method", "method", "付款方式", "manual"),
            ),
            _reimburse,
        ),
        Template(
            "pay_bills",
            "到期支付供应商账单",
            "Pay an approved supplier bill on its due day; above an amount, ask the owner.",
            (
                Field("approval_above", "money", "超过此金额需老板批准", "2000.00"),
                Field("max_amount", "money", "单笔最高", "50000.00"),
                Field("from_account", "account", "付款账户", "1002"),
                Field("method", "method", "付款方式", "manual"),
            ),
            _pay_bills,
        ),
        Template(
            "settle_receivables",
            "收款自动核销应收",
            "When a payment arrives with a matching reference, book it and settle the receivable.",
            (Field("to_account", "account", "收款账户", "1002"),),
            _settle,
        ),
        Template(
            "reserve_tax",
            "收入预留税款",
            "Move a percentage of each income to a reserve account.",
            (
                Field("percent", "percent", "比例 %", "3"),
                Field("income_account", "account", "收入科目", "5001"),
                Field("from_account", "account", "从", "1002"),
                Field("to_account", "account", "到（预留账户）", None),
            ),
            _reserve,
        ),
        Template(
            "recurring_payment",
            "每月固定付款（房租、工资）",
            "Pay a fixed amount to one payee every month.",
            (
                Field("payee", "text", "收款人标识", None),
                Field("payee_name", "text", "收款人", None),
                Field("amount", "money", "金额", None),
                Field("day", "day", "每月几号", 1),
                Field("to_account", "account", "费用科目", "560204"),
                Field("from_account", "account", "付款账户", "1002"),
                Field("method", "method", "付款方式", "manual"),
                Field("memo", "text", "摘要", "房租"),
            ),
            _recurring,
        ),
    )
}


def describe() -> list[dict[str, Any]]:
    return [
        {
            "key": t.key,
            "title": t.title,
            "description": t.description,
            "fields": [
                {"name": f.name, "kind": f.kind, "label": f.label, "default": f.default}
                for f in t.fields
            ],
        }
        for t in TEMPLATES.values()
    ]


def build(key: str, params: dict[str, Any], priority: int | None) -> dict[str, Any]:
    """The document for a filled-in form; missing fields take their defaults."""
    t = TEMPLATES.get(key)
    if t is None:
        raise NotFound("No such template", code="template_not_found")
    unknown = set(params) - {f.name for f in t.fields}
    if unknown:
        raise Unprocessable(f"unknown field(s) {sorted(unknown)}", code="invalid_contract")
    values: dict[str, Any] = {}
    for f in t.fields:
        v = params.get(f.name, f.default)
        if v is None:
            raise Unprocessable(f"{f.name}: required", code="invalid_contract")
        if f.kind == "day" and (not isinstance(v, int) or isinstance(v, bool)):
            raise Unprocessable(f"{f.name}: a day of the month", code="invalid_contract")
        if f.kind != "day" and not isinstance(v, str):
            raise Unprocessable(f"{f.name}: a string", code="invalid_contract")
        if f.kind == "money":
            parse_amount(v, field=f.name)
        values[f.name] = v
    doc = t.build(values)
    if priority is not None:
        doc["priority"] = priority
    return doc
