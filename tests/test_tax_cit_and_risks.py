"""CIT cliff, deduction caps and risk indicators, with books built through the API."""

from __future__ import annotations

from tests.conftest import Api, new_business
from tests.tax_helpers import by_rule, check, entry, profile, quick, warnings

CLIFF = "cn.cit.small_low_profit_cliff"


def _profit(api: Api, bid: int, revenue: str, expense: str | None = None) -> None:
    quick(api, bid, "income", revenue, "sales", "2026-03-10")
    if expense:
        quick(api, bid, "expense", expense, "rent", "2026-03-11")


def test_profit_just_under_the_cliff_warns_with_tax_on_both_sides(
    books: Api, business: dict
) -> None:
    bid = business["id"]
    _profit(books, bid, "3100000.00", "100001.00")  # profit 2,999,999.00
    check(books, bid, "2026-04-01")
    (w,) = by_rule(warnings(books, bid), CLIFF)
    f = w["figures"]
    assert (w["severity"], w["period"], f["taxable"]) == ("warn", "2026", "2999999.00")
    assert f["tax_with_relief"] == "149999.95"  # 5%
    assert f["tax_without_relief"] == "749999.75"  # 25%
    assert f["tax_at_limit"] == "150000.00" and f["after_tax_at_limit"] == "2850000.00"


def test_profit_just_over_the_cliff_alerts(books: Api, business: dict) -> None:
    bid = business["id"]
    _profit(books, bid, "3100000.00", "99999.00")  # profit 3,000,001.00
    check(books, bid, "2026-04-01")
    (w,) = by_rule(warnings(books, bid), CLIFF)
    f = w["figures"]
    assert (w["severity"], f["taxable"]) == ("alert", "3000001.00")
    assert f["tax_without_relief"] == "750000.25"  # china-facts §3 table
    assert f["after_tax_now"] == "2250000.75"


def test_exactly_three_million_still_qualifies(books: Api, business: dict) -> None:
    bid = business["id"]
    _profit(books, bid, "3000000.00")
    check(books, bid, "2026-04-01")
    (w,) = by_rule(warnings(books, bid), CLIFF)
    assert (w["severity"], w["figures"]["after_tax_now"]) == ("warn", "2850000.00")


def test_add_backs_count_toward_taxable_income(books: Api, business: dict) -> None:
    bid = business["id"]
    # Profit 2,690,000 (below the 2,700,000 warning) + entertainment add-back.
    quick(books, bid, "income", "2800000.00", "sales", "2026-02-10")
    quick(books, bid, "expense", "110000.00", "meals", "2026-02-11")
    check(books, bid, "2026-03-01")
    (w,) = by_rule(warnings(books, bid), CLIFF)
    # Entertainment: min(60% x 110,000 = 66,000, 0.5% x 2,800,000 = 14,000) -> add back 96,000.
    assert w["figures"]["addbacks"] == "96000.00"
    assert w["figures"]["taxable"] == "2786000.00"


def test_individual_businesses_not_paying_cit_get_no_cit_rules(books: Api, business: dict) -> None:
    bid = business["id"]
    profile(books, bid, cit_payer=False)
    _profit(books, bid, "3100000.00")
    check(books, bid, "2026-04-01")
    assert not [w for w in warnings(books, bid) if w["rule_id"].startswith("cn.cit.")]


def test_entertainment_cap_uses_the_lower_of_sixty_percent_and_five_permille(
    books: Api, business: dict
) -> None:
    bid = business["id"]
    quick(books, bid, "income", "800000.00", "sales", "2026-05-01")
    quick(books, bid, "expense", "50000.00", "meals", "2026-05-02")
    check(books, bid, "2026-05-31")
    (w,) = by_rule(warnings(books, bid), "cn.cit.deduction.entertainment")
    f = w["figures"]
    # china-facts §4 worked example: min(30,000, 4,000) = 4,000 deductible, 46,000 added back.
    assert (w["severity"], f["cap"], f["deductible"], f["addback"]) == (
        "alert",
        "4000.00",
        "4000.00",
        "46000.00",
    )
    assert w["entries"] and w["entries"][0]["memo"]


def test_entertainment_within_the_cap_does_not_fire(books: Api, business: dict) -> None:
    bid = business["id"]
    quick(books, bid, "income", "1000000.00", "sales", "2026-05-01")
    quick(books, bid, "expense", "6666.65", "meals", "2026-05-02")  # 60% = 3,999.99 < 80% x 5,000
    check(books, bid, "2026-05-31")
    assert by_rule(warnings(books, bid), "cn.cit.deduction.entertainment") == []
    quick(books, bid, "expense", "0.01", "meals", "2026-05-03")  # 60% of 6,666.66 = 4,000.00
    check(books, bid, "2026-05-31")
    (w,) = by_rule(warnings(books, bid), "cn.cit.deduction.entertainment")
    assert (w["severity"], w["figures"]["usage"]) == ("warn", "80.00%")


def test_wage_based_caps(books: Api, business: dict) -> None:
    bid = business["id"]
    quick(books, bid, "expense", "100000.00", "salary", "2026-06-01")
    entry(
        books, bid, "2026-06-02", [("560207", "debit", "14000.01"), ("1002", "credit", "14000.01")]
    )
    entry(books, bid, "2026-06-02", [("560208", "debit", "7000.00"), ("1002", "credit", "7000.00")])
    entry(books, bid, "2026-06-02", [("560209", "debit", "1000.00"), ("1002", "credit", "1000.00")])
    check(books, bid, "2026-06-30")
    items = warnings(books, bid)
    (welfare,) = by_rule(items, "cn.cit.deduction.staff_welfare")
    assert (welfare["severity"], welfare["figures"]["addback"]) == ("alert", "0.01")
    (edu,) = by_rule(items, "cn.cit.deduction.staff_education")
    assert (edu["severity"], edu["figures"]["usage"], edu["figures"]["addback"]) == (
        "warn",
        "87.50%",
        "0.00",
    )
    assert edu["figures"]["carry_forward"] is True
    assert by_rule(items, "cn.cit.deduction.union_funds") == []  # 50% of the 2% cap


def test_advertising_cap_fifteen_percent(books: Api, business: dict) -> None:
    bid = business["id"]
    quick(books, bid, "income", "100000.00", "sales", "2026-05-01")
    quick(books, bid, "expense", "15000.01", "advertising", "2026-05-02")
    check(books, bid, "2026-05-31")
    (w,) = by_rule(warnings(books, bid), "cn.cit.deduction.advertising")
    assert (w["severity"], w["figures"]["cap"], w["figures"]["addback"]) == (
        "alert",
        "15000.00",
        "0.01",
    )


CASH = "cn.risk.cash_over_settlement_threshold"


def test_cash_payments_above_one_thousand(books: Api, business: dict) -> None:
    bid = business["id"]
    quick(books, bid, "expense", "1000.00", "office", "2026-03-05", paid_with="cash")
    assert by_rule(warnings(books, bid), CASH) == []  # at the threshold is fine
    e = quick(books, bid, "expense", "1000.01", "office", "2026-03-06", paid_with="cash")
    (w,) = by_rule(warnings(books, bid), CASH)  # immediate check after posting
    assert (w["severity"], w["period"], w["figures"]["count"]) == ("warn", "2026-03", 1)
    assert [x["id"] for x in w["entries"]] == [e["id"]]
    assert w["unconfirmed"] is True  # the 1,000 yuan sentence is not confirmed verbatim


def test_cash_wages_are_allowed(books: Api, business: dict) -> None:
    bid = business["id"]
    quick(books, bid, "expense", "5000.00", "salary", "2026-03-06", paid_with="cash")
    check(books, bid, "2026-03-31")
    assert by_rule(warnings(books, bid), CASH) == []


def test_three_loss_years_in_a_row(books: Api, business: dict) -> None:
    bid = business["id"]
    for year in (2023, 2024, 2025):
        quick(books, bid, "income", "1000.00", "sales", f"{year}-06-01")
        quick(books, bid, "expense", "2000.00", "rent", f"{year}-06-02")
    check(books, bid, "2026-02-01")
    (w,) = by_rule(warnings(books, bid), "cn.risk.loss_years")
    assert (w["severity"], w["period"], w["figures"]["years"]) == ("alert", "2025", 3)


def test_two_loss_years_do_not_fire(books: Api, business: dict) -> None:
    bid = business["id"]
    quick(books, bid, "income", "5000.00", "sales", "2023-06-01")  # a profitable year
    for year in (2024, 2025):
        quick(books, bid, "expense", "2000.00", "rent", f"{year}-06-02")
    check(books, bid, "2026-02-01")
    assert by_rule(warnings(books, bid), "cn.risk.loss_years") == []


def test_a_run_of_loss_months_is_one_warning_that_escalates(books: Api, business: dict) -> None:
    bid = business["id"]
    for m in range(1, 7):
        quick(books, bid, "expense", "100.00", "rent", f"2025-{m:02d}-05")
    check(books, bid, "2025-07-02")
    (w,) = by_rule(warnings(books, bid), "cn.risk.loss_months")
    assert (w["severity"], w["period"], w["figures"]["months"]) == ("warn", "since:2025-01", 6)
    for m in range(7, 13):
        quick(books, bid, "expense", "100.00", "rent", f"2025-{m:02d}-05")
    check(books, bid, "2026-01-02")
    (w2,) = by_rule(warnings(books, bid), "cn.risk.loss_months")
    assert (w2["id"], w2["severity"], w2["figures"]["months"]) == (w["id"], "alert", 12)


BURDEN = "cn.risk.vat_burden_low"


def test_vat_burden_far_below_the_configured_benchmark(api: Api, owner: dict) -> None:
    b = new_business(api, owner["access_token"], taxpayer_type="general", industry="零售")
    api.token = owner["access_token"]
    bid = b["id"]
    # 1,000,000 sales with 130,000 output VAT, 125,000 input: payable 5,000 = 0.5%.
    entry(
        api,
        bid,
        "2026-04-01",
        [
            ("1002", "debit", "1130000.00"),
            ("5001", "credit", "1000000.00"),
            ("22210102", "credit", "130000.00"),
        ],
    )
    entry(
        api,
        bid,
        "2026-04-02",
        [
            ("1405", "debit", "961538.46"),
            ("22210101", "debit", "125000.00"),
            ("1002", "credit", "1086538.46"),
        ],
    )
    check(api, bid, "2026-04-30")
    (w,) = by_rule(warnings(api, bid), BURDEN)  # pack's unofficial retail 0.8%: 0.5/0.8 < 0.7
    assert (w["severity"], w["figures"]["burden"], w["figures"]["benchmark"]) == (
        "warn",
        "0.50%",
        "0.80%",
    )
    assert w["figures"]["benchmark_source"] == "pack:零售" and w["unconfirmed"] is True
    profile(api, bid, vat_burden_benchmark="1.20")  # the owner's own benchmark
    check(api, bid, "2026-04-30")
    (w,) = by_rule(warnings(api, bid), BURDEN)
    assert (w["severity"], w["figures"]["benchmark_source"]) == ("alert", "tax_profile")
    profile(api, bid, vat_burden_benchmark="0.60")
    check(api, bid, "2026-04-30")
    assert by_rule(warnings(api, bid), BURDEN) == []
    assert by_rule(warnings(api, bid, "resolved"), BURDEN)


def test_no_benchmark_means_no_burden_warning(api: Api, owner: dict) -> None:
    b = new_business(api, owner["access_token"], taxpayer_type="general", industry="")
    api.token = owner["access_token"]
    quick(api, b["id"], "income", "500000.00", "sales", "2026-04-01")
    check(api, b["id"], "2026-04-30")
    assert by_rule(warnings(api, b["id"]), BURDEN) == []
