"""Load and validate rule packs: TOML files, one per jurisdiction (app/tax/packs/).

Adding or editing a rule is a data change. A broken file must stop the app at start with a
message naming the file, the rule and the field, rather than fail at 08:00 on some business:
`load_packs` raises `RulePackError` and create_app lets it propagate.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from string import Formatter
from typing import Any

from app.models.businesses import TAXPAYER_TYPES
from app.models.tax import FILING_BASES
from app.tax.deadlines import PublishedYear
from app.tax.metrics import METRICS
from app.tax.rules import OPERATORS, Levels, Pack, Rule
from app.tax.units import PARSERS, money_fen, ratio

DEFAULT_DIR = Path(__file__).resolve().parent / "packs"
_RULE_ID = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_ACCOUNT = re.compile(r"[0-9]{4,12}")
# Figures every message may use besides the metric's own.
COMMON_FIGURES = frozenset(
    {"value", "threshold", "threshold_warn", "threshold_alert", "period", "severity"}
)
_RULE_FIELDS = {
    "id",
    "metric",
    "title_zh",
    "title_en",
    "message_zh",
    "message_en",
    "note_zh",
    "note_en",
    "applies_to",
    "valid_from",
    "valid_to",
    "thresholds",
    "warn_when",
    "alert_when",
    "basis",
    "unconfirmed",
    "params",
    "exact_threshold_unconfirmed",
}


class RulePackError(ValueError):
    """A rule file that must not be used; the message says where and why."""


def _fail(path: Path, where: str, why: str) -> RulePackError:
    return RulePackError(f"rule pack {path}: {where}: {why}")


def _text(path: Path, where: str, data: dict[str, Any], name: str, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where, f"'{name}' must be a non-empty string")
    return value


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def _param(path: Path, where: str, kind: str, value: Any) -> Any:
    try:
        if kind in ("fen", "ratio", "count"):
            return PARSERS[kind](value)
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"expected true or false, got {value!r}")
            return value
        if kind == "account":
            if not isinstance(value, str) or not _ACCOUNT.fullmatch(value):
                raise ValueError(f'expected an account code like "560203", got {value!r}')
            return value
        if kind == "accounts":
            if not isinstance(value, list) or not all(
                isinstance(v, str) and _ACCOUNT.fullmatch(v) for v in value
            ):
                raise ValueError(f"expected a list of account codes, got {value!r}")
            return tuple(value)
        if kind.startswith("choice:"):
            choices = kind[len("choice:") :].split("|")
            if value not in choices:
                raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
            return value
    except ValueError as exc:
        raise _fail(path, where, str(exc)) from None
    raise AssertionError(kind)


def _rule(path: Path, raw: Any, index: int) -> Rule:
    if not isinstance(raw, dict):
        raise _fail(path, f"rules[{index}]", "each [[rules]] entry must be a table")
    rid = raw.get("id")
    where = f"rule {rid!r}" if isinstance(rid, str) else f"rules[{index}]"
    if not isinstance(rid, str) or not _RULE_ID.fullmatch(rid) or len(rid) > 80:
        raise _fail(path, where, "'id' must look like 'cn.vat.small_scale_threshold' (<= 80 chars)")
    unknown = set(raw) - _RULE_FIELDS
    if unknown:
        raise _fail(path, where, f"unknown field(s): {', '.join(sorted(unknown))}")
    metric_name = raw.get("metric")
    spec = METRICS.get(metric_name) if isinstance(metric_name, str) else None
    if spec is None:
        raise _fail(
            path, where, f"'metric' {metric_name!r} is not one of: {', '.join(sorted(METRICS))}"
        )
    title = {lang: _text(path, where, raw, f"title_{lang}") for lang in ("zh", "en")}
    message = {lang: _text(path, where, raw, f"message_{lang}") for lang in ("zh", "en")}
    note = {lang: _text(path, where, raw, f"note_{lang}", required=False) for lang in ("zh", "en")}
    allowed = spec.figures | COMMON_FIGURES
    for lang, template in message.items():
        try:
            names = _placeholders(template)
        except ValueError as exc:
            raise _fail(path, where, f"message_{lang}: {exc}") from None
        bad = names - allowed
        if bad:
            raise _fail(
                path,
                where,
                f"message_{lang} uses unknown figure(s) {', '.join(sorted(bad))}; "
                f"{metric_name} offers {', '.join(sorted(allowed))}",
            )

    applies = raw.get("applies_to", {})
    if not isinstance(applies, dict) or set(applies) - {
        "taxpayer_types",
        "filing_bases",
        "cit_payer",
    }:
        raise _fail(path, where, "'applies_to' takes taxpayer_types, filing_bases, cit_payer")
    types = applies.get("taxpayer_types", list(TAXPAYER_TYPES))
    bases = applies.get("filing_bases", list(FILING_BASES))
    if not isinstance(types, list) or not types or set(types) - set(TAXPAYER_TYPES):
        raise _fail(path, where, f"applies_to.taxpayer_types: some of {', '.join(TAXPAYER_TYPES)}")
    if not isinstance(bases, list) or not bases or set(bases) - set(FILING_BASES):
        raise _fail(path, where, f"applies_to.filing_bases: some of {', '.join(FILING_BASES)}")
    cit_payer = applies.get("cit_payer", False)
    if not isinstance(cit_payer, bool):
        raise _fail(path, where, "applies_to.cit_payer must be true or false")

    valid_from = raw.get("valid_from")
    valid_to = raw.get("valid_to")
    if not isinstance(valid_from, str) or not _MONTH.fullmatch(valid_from):
        raise _fail(path, where, "'valid_from' must be a tax period 'YYYY-MM'")
    if valid_to is not None and (not isinstance(valid_to, str) or not _MONTH.fullmatch(valid_to)):
        raise _fail(path, where, "'valid_to' must be a tax period 'YYYY-MM' (or left out)")
    if valid_to is not None and valid_to < valid_from:
        raise _fail(path, where, f"'valid_to' {valid_to} is before 'valid_from' {valid_from}")

    warn_when = raw.get("warn_when", ">=")
    alert_when = raw.get("alert_when", ">=")
    for name, op in (("warn_when", warn_when), ("alert_when", alert_when)):
        if op not in OPERATORS:
            raise _fail(path, where, f"'{name}' must be one of {' '.join(OPERATORS)}")

    raw_thresholds = raw.get("thresholds")
    if not isinstance(raw_thresholds, dict) or not raw_thresholds:
        raise _fail(path, where, "'thresholds' must be a table keyed by monthly/quarterly/any")
    thresholds: dict[str, Levels] = {}
    parse = PARSERS[spec.unit]
    for basis, levels in raw_thresholds.items():
        if basis not in (*FILING_BASES, "any"):
            raise _fail(path, where, f"thresholds.{basis}: use monthly, quarterly or any")
        if not isinstance(levels, dict) or not levels or set(levels) - {"warn", "alert"}:
            raise _fail(path, where, f"thresholds.{basis}: a table with warn and/or alert")
        parsed = {}
        for level, text in levels.items():
            try:
                parsed[level] = parse(text)
            except ValueError as exc:
                raise _fail(path, where, f"thresholds.{basis}.{level}: {exc}") from None
        thresholds[basis] = Levels(parsed.get("warn"), parsed.get("alert"))

    raw_params = raw.get("params", {})
    if not isinstance(raw_params, dict):
        raise _fail(path, where, "'params' must be a table")
    params = {}
    for name, value in raw_params.items():
        if name not in spec.params:
            raise _fail(
                path,
                where,
                f"params.{name} is not a parameter of {metric_name} "
                f"({', '.join(sorted(spec.params)) or 'none'})",
            )
        params[name] = _param(path, f"{where}: params.{name}", spec.params[name], value)
    required = {
        "deduction_cap": ("account", "base", "rate"),
        "vat_sales_rolling_12m_projected": ("limit",),
        "cit_taxable_profit_ytd": ("limit", "relief_rate", "full_rate"),
        "days_to_deadline": ("filing",),
        "cash_payments_over": ("limit",),
    }.get(metric_name, ())
    missing = [p for p in required if p not in params]
    if missing:
        raise _fail(path, where, f"{metric_name} needs params: {', '.join(missing)}")

    unconfirmed = raw.get("unconfirmed", False)
    edge = raw.get("exact_threshold_unconfirmed", False)
    if not isinstance(unconfirmed, bool) or not isinstance(edge, bool):
        raise _fail(path, where, "'unconfirmed' and 'exact_threshold_unconfirmed' are true/false")
    return Rule(
        id=rid,
        metric=metric_name,
        title=title,
        message=message,
        taxpayer_types=tuple(types),
        filing_bases=tuple(bases),
        requires_cit_payer=cit_payer,
        valid_from=valid_from,
        valid_to=valid_to,
        thresholds=thresholds,
        warn_when=warn_when,
        alert_when=alert_when,
        basis=_text(path, where, raw, "basis"),
        unconfirmed=unconfirmed,
        note=note,
        params=params,
        exact_threshold_unconfirmed=edge,
    )


def _calendar(path: Path, raw: Any) -> dict[int, PublishedYear]:
    out: dict[int, PublishedYear] = {}
    if raw is None:
        return out
    if not isinstance(raw, dict):
        raise _fail(path, "[deadlines]", "must be a table of years")
    for year, table in raw.items():
        where = f"deadlines.{year}"
        if not (isinstance(year, str) and year.isdigit() and len(year) == 4):
            raise _fail(path, where, 'keys are years like "2026"')
        if not isinstance(table, dict):
            raise _fail(path, where, "must be a table with days, basis, unconfirmed")
        days = table.get("days")
        if not (
            isinstance(days, list)
            and len(days) == 12
            and all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 31 for d in days)
        ):
            raise _fail(path, where, "'days' must list 12 days of month, January to December")
        basis = _text(path, where, table, "basis")
        unconfirmed = table.get("unconfirmed", False)
        if not isinstance(unconfirmed, bool):
            raise _fail(path, where, "'unconfirmed' must be true or false")
        out[int(year)] = PublishedYear(tuple(days), basis, unconfirmed)
    return out


def load_pack(path: Path) -> Pack:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulePackError(f"rule pack {path}: cannot be read: {exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulePackError(f"rule pack {path}: not valid TOML: {exc}") from None
    head = raw.get("pack")
    if not isinstance(head, dict):
        raise _fail(path, "[pack]", "missing the [pack] table (id, version, jurisdiction, ...)")
    pid = _text(path, "[pack]", head, "id")
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise _fail(path, "[[rules]]", "a pack needs at least one rule")
    rules = [_rule(path, r, i) for i, r in enumerate(rules_raw)]
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            raise _fail(path, f"rule {r.id!r}", "the same id appears twice")
        seen.add(r.id)
    bench_raw = raw.get("benchmarks", {}).get("vat_burden", {})
    benchmarks = {}
    bench_basis = ""
    if bench_raw:
        if not isinstance(bench_raw, dict):
            raise _fail(path, "benchmarks.vat_burden", "must be a table")
        bench_basis = _text(path, "benchmarks.vat_burden", bench_raw, "basis")
        for name, value in bench_raw.get("rates", {}).items():
            try:
                benchmarks[name] = ratio(value)
            except ValueError as exc:
                raise _fail(path, f"benchmarks.vat_burden.rates.{name}", str(exc)) from None
    return Pack(
        id=pid,
        version=_text(path, "[pack]", head, "version"),
        jurisdiction=_text(path, "[pack]", head, "jurisdiction"),
        title={lang: _text(path, "[pack]", head, f"title_{lang}") for lang in ("zh", "en")},
        source=_text(path, "[pack]", head, "source"),
        path=str(path),
        rules=tuple(rules),
        published_deadlines=_calendar(path, raw.get("deadlines")),
        burden_benchmarks=benchmarks,
        burden_benchmark_basis=bench_basis,
    )


def load_packs(directory: Path | str | None = None) -> list[Pack]:
    """Every *.toml in the directory; rule ids must be unique across packs."""
    folder = Path(directory) if directory else DEFAULT_DIR
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise RulePackError(f"rule packs: no *.toml files in {folder}")
    packs = [load_pack(f) for f in files]
    seen: dict[str, str] = {}
    for p in packs:
        for r in p.rules:
            if r.id in seen:
                raise RulePackError(f"rule {r.id!r} is defined in both {seen[r.id]} and {p.path}")
            seen[r.id] = p.path
    return packs


__all__ = ["RulePackError", "load_pack", "load_packs", "money_fen"]
