"""The shapes of a rule pack once loaded: frozen records, validated by app/tax/pack.py.

A pack is one TOML file per jurisdiction (app/tax/packs/). A rule names a metric (what it reads
from the books), the thresholds that make it warn or alert, which businesses it applies to, the
tax periods it is valid for, its legal basis and whether its figures are unconfirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.tax.deadlines import PublishedYear
from app.tax.units import Value

OPERATORS = (">", ">=", "<", "<=")


def compare(value: Value, op: str, threshold: Value) -> bool:
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    if op == "<":
        return value < threshold
    return value <= threshold


@dataclass(frozen=True)
class Levels:
    """Thresholds for one filing basis (or "any"): None means the level is not used."""

    warn: Value | None
    alert: Value | None


@dataclass(frozen=True)
class Rule:
    id: str
    metric: str
    title: dict[str, str]  # {"zh": ..., "en": ...}
    message: dict[str, str]
    taxpayer_types: tuple[str, ...]
    filing_bases: tuple[str, ...]
    requires_cit_payer: bool
    valid_from: str  # YYYY-MM, inclusive
    valid_to: str | None  # YYYY-MM, inclusive; None = open-ended
    thresholds: dict[str, Levels]  # "monthly" | "quarterly" | "any"
    warn_when: str
    alert_when: str
    basis: str
    unconfirmed: bool
    note: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    # When the value equals the alert threshold exactly, flag it for review (2026 VAT edge).
    exact_threshold_unconfirmed: bool = False

    def valid_for(self, month: str) -> bool:
        return self.valid_from <= month and (self.valid_to is None or month <= self.valid_to)

    def levels_for(self, filing_basis: str) -> Levels | None:
        return self.thresholds.get(filing_basis) or self.thresholds.get("any")


@dataclass(frozen=True)
class Pack:
    id: str
    version: str
    jurisdiction: str
    title: dict[str, str]
    source: str
    path: str
    rules: tuple[Rule, ...]
    published_deadlines: dict[int, PublishedYear]
    # industry keyword -> VAT burden benchmark (a ratio); "default" used when nothing matches
    burden_benchmarks: dict[str, Value]
    burden_benchmark_basis: str

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)
