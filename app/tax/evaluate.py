"""Evaluation: rules x a business's books -> results, one per observed (rule, period).

Pure apart from the metrics' reads: nothing is stored here. A result with `severity=None` is an
observation that does not fire; the warnings service uses it to resolve a stored warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from app.tax.books import Books, Profile
from app.tax.metrics import METRICS, Ctx, Observation
from app.tax.rules import Levels, Pack, Rule, compare
from app.tax.units import show


@dataclass
class Result:
    pack: Pack
    rule: Rule
    observation: Observation
    severity: str | None  # warn | alert | None (not firing)
    figures: dict[str, Any]
    unconfirmed: bool

    @property
    def key(self) -> str:
        return self.observation.key


def applies(rule: Rule, profile: Profile) -> bool:
    if profile.taxpayer_type not in rule.taxpayer_types:
        return False
    if profile.vat_filing_basis not in rule.filing_bases:
        return False
    return not (rule.requires_cit_payer and not profile.cit_payer)


def severity_of(rule: Rule, levels: Levels, obs: Observation) -> str | None:
    if obs.value is None:
        return None
    if levels.alert is not None and compare(obs.value, rule.alert_when, levels.alert):
        return "alert"
    if levels.warn is not None and compare(obs.value, rule.warn_when, levels.warn):
        return "warn"
    return None


def evaluate_rule(pack: Pack, rule: Rule, books: Books) -> list[Result]:
    spec = METRICS[rule.metric]
    levels = rule.levels_for(books.profile.vat_filing_basis)
    if levels is None:
        return []
    out = []
    for obs in spec.fn(Ctx(books, pack, books.as_of), rule):
        if not rule.valid_for(obs.period.start_month):
            continue  # another version of the rule covers this tax period
        sev = severity_of(rule, levels, obs)
        figures = dict(obs.figures)
        figures["period"] = obs.period.key
        if obs.value is not None:
            figures["value"] = show(obs.value, spec.unit)
        if levels.warn is not None:
            figures["threshold_warn"] = show(levels.warn, spec.unit)
        if levels.alert is not None:
            figures["threshold_alert"] = show(levels.alert, spec.unit)
        fired = levels.alert if sev == "alert" else levels.warn
        figures["threshold"] = show(fired, spec.unit) if fired is not None else ""
        unconfirmed = rule.unconfirmed or obs.unconfirmed
        if (
            rule.exact_threshold_unconfirmed
            and levels.alert is not None
            and obs.value == levels.alert
        ):
            figures["exact_threshold"] = True
            unconfirmed = True
        out.append(Result(pack, rule, obs, sev, figures, unconfirmed))
    return out


RuleFilter = Callable[[Rule], bool]


def evaluate(
    packs: Iterable[Pack],
    profile: Profile,
    as_of: dt.date,
    rule_filter: RuleFilter | None = None,
    books: Books | None = None,
    until: dt.date | None = None,
    start: dt.date | None = None,
    prefixes: tuple[str, ...] | None = None,
) -> list[Result]:
    selected = [
        (p, r)
        for p in packs
        for r in p.rules
        if applies(r, profile) and (rule_filter is None or rule_filter(r))
    ]
    if not selected:
        return []
    books = books or Books.load(profile, as_of, until, start, prefixes)
    return [res for p, r in selected for res in evaluate_rule(p, r, books)]


def immediate_only(rule: Rule) -> bool:
    """The threshold rules cheap enough to check after every posting."""
    return METRICS[rule.metric].immediate
