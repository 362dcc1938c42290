"""Rule packs are data: a broken file refuses to start; deadlines follow the published table,
then the holiday calendar, then a weekend-only fallback that says it is unconfirmed."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from app import ConfigurationError, create_app
from app.tax.deadlines import calendar_due_day, next_deadline
from app.tax.pack import DEFAULT_DIR, RulePackError, load_pack, load_packs
from tests.conftest import Api, make_config
from tests.tax_helpers import by_rule, check, profile, warnings

PACK = DEFAULT_DIR / "cn-small-business.toml"
PUBLISHED_2026 = [20, 24, 16, 20, 22, 15, 15, 17, 15, 26, 16, 15]  # china-facts §5.2


def test_the_shipped_pack_loads_and_covers_the_issue() -> None:
    (pack,) = load_packs()
    ids = {r.id for r in pack.rules}
    for needed in (
        "cn.vat.small_scale_threshold.2023",
        "cn.vat.small_scale_threshold.2026",
        "cn.vat.general_taxpayer_registration.2026",
        "cn.vat.general_taxpayer_projection.2026",
        "cn.cit.small_low_profit_cliff",
        "cn.deadline.vat",
        "cn.deadline.cit_prepayment",
        "cn.deadline.cit_annual",
        "cn.cit.deduction.entertainment",
        "cn.cit.deduction.advertising",
        "cn.cit.deduction.staff_welfare",
        "cn.cit.deduction.staff_education",
        "cn.cit.deduction.union_funds",
        "cn.risk.expense_without_invoice",
        "cn.risk.duplicate_fapiao",
        "cn.risk.cash_over_settlement_threshold",
        "cn.risk.loss_years",
        "cn.risk.vat_burden_low",
    ):
        assert needed in ids
    for r in pack.rules:
        assert r.title["zh"] and r.title["en"] and r.message["zh"] and r.message["en"] and r.basis


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = PACK.read_text(encoding="utf-8")
    assert old in text
    folder = tmp_path / "packs"
    folder.mkdir(exist_ok=True)
    (folder / "cn.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ('warn = "80000.00"', "warn = 80000.5", "thresholds.monthly.warn"),
        ('metric = "vat_sales_period"', 'metric = "vat_sales"', "'metric' 'vat_sales'"),
        ('valid_to = "2025-12"', 'valid_to = "2022-12"', "before 'valid_from'"),
        ("{tax_at_1pct}", "{tax_at_3pct}", "unknown figure(s) tax_at_3pct"),
        ('alert_when = ">"', 'alert_when = "=>"', "'alert_when'"),
        ('rate = "0.005"', 'rate = "0.5%"', "params.rate"),
        (
            '[pack]\nid = "cn-small-business"',
            '[pack]\nid = "cn-small-business"\n[[oops',
            "not valid TOML",
        ),
        ('title_en = "Small-scale VAT exemption limit (2023 regime)"\n', "", "'title_en'"),
        ("days = [20, 24, 16", "days = [20, 24", "12 days of month"),
    ],
)
def test_a_broken_rule_file_is_refused_at_start_with_a_clear_message(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    folder = _broken(tmp_path, old, new)
    with pytest.raises(RulePackError) as caught:
        load_packs(folder)
    assert says in str(caught.value) and "cn.toml" in str(caught.value)
    cfg = make_config(
        f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "inst", TAX_RULES_DIR=str(folder)
    )
    with pytest.raises(ConfigurationError, match="Tax rules refused"):
        create_app(cfg)


def test_duplicate_rule_ids_across_files_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "packs"
    folder.mkdir()
    shutil.copy(PACK, folder / "a.toml")
    shutil.copy(PACK, folder / "b.toml")
    with pytest.raises(RulePackError, match="defined in both"):
        load_packs(folder)


def test_adding_a_rule_needs_no_code(tmp_path: Path) -> None:
    extra = """
[[rules]]
id = "cn.test.tiny_sales"
metric = "vat_sales_period"
title_zh = "测试"
title_en = "Test"
message_zh = "{sales}"
message_en = "{sales}"
valid_from = "2020-01"
basis = "test"
[rules.thresholds.any]
warn = "0.01"
"""
    folder = tmp_path / "packs"
    folder.mkdir()
    (folder / "cn.toml").write_text(PACK.read_text(encoding="utf-8") + extra, encoding="utf-8")
    pack = load_pack(folder / "cn.toml")
    assert pack.rule("cn.test.tiny_sales") is not None


def test_the_calendar_rule_reproduces_the_published_2026_table() -> None:
    computed = [calendar_due_day(2026, m).day for m in range(1, 13)]
    assert computed == PUBLISHED_2026


def test_2027_is_not_in_the_calendar_package_so_the_fallback_says_unconfirmed() -> None:
    with pytest.raises(NotImplementedError):
        calendar_due_day(2027, 1)
    d = next_deadline("vat", dt.date(2027, 2, 1), "monthly", {})
    assert d.source == "fallback" and d.unconfirmed
    assert d.due == dt.date(2027, 2, 15)  # a Monday; only weekends are rolled over
    d = next_deadline("vat", dt.date(2027, 5, 1), "monthly", {})
    assert d.due == dt.date(2027, 5, 17)  # the 15th is a Saturday


def test_holiday_shifted_deadline_warns_with_the_moved_date(books: Api, business: dict) -> None:
    bid = business["id"]  # small-scale, quarterly by default: Q3 is filed in October
    check(books, bid, "2026-10-19")
    (w,) = by_rule(warnings(books, bid), "cn.deadline.vat")
    # National Day 10/1-7 moves the 15th to the 26th (税总办征科函〔2025〕64号).
    assert (w["period"], w["figures"]["due"], w["figures"]["days_left"]) == (
        "2026-Q3",
        "2026-10-26",
        7,
    )
    assert (w["severity"], w["figures"]["source"]) == ("warn", "published")
    assert w["unconfirmed"] is True  # the table was not read from the notice itself
    check(books, bid, "2026-10-24")
    (w,) = by_rule(warnings(books, bid), "cn.deadline.vat")
    assert (w["severity"], w["figures"]["days_left"]) == ("alert", 2)
    check(books, bid, "2026-10-27")  # passed: the reminder resolves
    assert by_rule(warnings(books, bid), "cn.deadline.vat") == []
    assert by_rule(warnings(books, bid, "resolved"), "cn.deadline.vat")[0]["id"] == w["id"]


def test_monthly_filer_gets_the_february_deadline_after_spring_festival(
    books: Api, business: dict
) -> None:
    bid = business["id"]
    profile(books, bid, vat_filing_basis="monthly")
    check(books, bid, "2026-02-10")  # 14 days before: nothing yet
    assert by_rule(warnings(books, bid), "cn.deadline.vat") == []
    check(books, bid, "2026-02-17")
    (w,) = by_rule(warnings(books, bid), "cn.deadline.vat")
    assert (w["period"], w["figures"]["due"], w["figures"]["days_left"]) == (
        "2026-01",
        "2026-02-24",
        7,
    )


def test_annual_reconciliation_by_may_31(books: Api, business: dict) -> None:
    bid = business["id"]
    check(books, bid, "2026-05-01")
    (w,) = by_rule(warnings(books, bid), "cn.deadline.cit_annual")
    assert (w["period"], w["figures"]["due"], w["severity"]) == ("2025", "2026-05-31", "warn")
    assert w["unconfirmed"] is True  # 2026-05-31 is a Sunday: whether it moves is unconfirmed
