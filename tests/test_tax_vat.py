"""VAT rules at their boundaries, with books built through the API.

The small-scale threshold is inclusive up to 2025-12 (2023年第19号: "10万元以下（含本数）") and
"reached means the whole amount is taxed" from 2026-01 (VAT Law Art. 23), with the exact
threshold flagged for review. Registration: rolling 12 months against 5,000,000 yuan.
"""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.tax_helpers import by_rule, check, profile, quick, warnings

T2023 = "cn.vat.small_scale_threshold.2023"
T2026 = "cn.vat.small_scale_threshold.2026"


@pytest.mark.parametrize(
    ("month", "amount", "rule", "severity", "edge"),
    [
        ("2025-06", "79999.99", T2023, None, False),
        ("2025-06", "80000.00", T2023, "warn", False),
        ("2025-06", "99999.99", T2023, "warn", False),
        ("2025-06", "100000.00", T2023, "warn", False),  # 含本数: still exempt
        ("2025-06", "100000.01", T2023, "alert", False),
        ("2026-06", "99999.99", T2026, "warn", False),
        ("2026-06", "100000.00", T2026, "alert", True),  # reached: taxable, flagged for review
        ("2026-06", "100000.01", T2026, "alert", False),
    ],
)
def test_monthly_threshold_edges_by_regime(
    books: Api, business: dict, month: str, amount: str, rule: str, severity: str | None, edge: bool
) -> None:
    bid = business["id"]
    profile(books, bid, vat_filing_basis="monthly")
    quick(books, bid, "income", amount, "sales", f"{month}-10")
    check(books, bid, f"{month}-28")
    found = by_rule(warnings(books, bid), rule)
    other = T2026 if rule == T2023 else T2023
    assert by_rule(warnings(books, bid), other) == []  # the other regime never applies here
    if severity is None:
        assert found == []
        return
    assert len(found) == 1
    w = found[0]
    assert (w["severity"], w["period"]) == (severity, month)
    assert w["figures"]["sales"] == amount
    assert w["figures"].get("exact_threshold", False) is edge
    assert w["unconfirmed"] is edge
    assert (w["needs_confirmation"] is not None) is edge
    assert amount in w["message"]["zh"] and amount in w["message"]["en"]
    assert w["basis"]
    assert len(w["entries"]) == 1


def test_quarterly_filer_one_big_month_is_fine_while_the_quarter_stays_under(
    books: Api, business: dict
) -> None:
    bid = business["id"]
    profile(books, bid, vat_filing_basis="quarterly")
    quick(books, bid, "income", "150000.00", "sales", "2025-04-10")  # above 100k in one month
    check(books, bid, "2025-04-30")
    assert by_rule(warnings(books, bid), T2023) == []
    quick(books, bid, "income", "100000.00", "sales", "2025-05-10")
    check(books, bid, "2025-05-30")
    (w,) = by_rule(warnings(books, bid), T2023)
    assert (w["severity"], w["period"], w["figures"]["sales"]) == ("warn", "2025-Q2", "250000.00")
    quick(books, bid, "income", "50000.01", "sales", "2025-06-10")
    (w,) = by_rule(warnings(books, bid), T2023)  # the posting's own check updated it
    assert (w["severity"], w["figures"]["sales"]) == ("alert", "300000.01")
    assert w["figures"]["tax_at_1pct"] == "3000.00"


def test_the_2026_q2_worked_example_whole_amount_taxed(books: Api, business: dict) -> None:
    bid = business["id"]
    quick(books, bid, "income", "320000.00", "sales", "2026-05-10")
    check(books, bid, "2026-06-30")
    (w,) = by_rule(warnings(books, bid), T2026)
    assert (w["severity"], w["period"]) == ("alert", "2026-Q2")
    assert w["figures"]["tax_at_1pct"] == "3200.00"  # china-facts §1.2: 320,000 x 1%


def test_reversal_resolves_the_threshold_warning_automatically(books: Api, business: dict) -> None:
    bid = business["id"]
    profile(books, bid, vat_filing_basis="monthly")
    quick(books, bid, "income", "60000.00", "sales", "2026-03-02")
    big = quick(books, bid, "income", "50000.00", "sales", "2026-03-03")
    (w,) = by_rule(warnings(books, bid), T2026)  # raised by the post-posting check
    assert w["severity"] == "alert"
    r = books.post(f"/businesses/{bid}/entries/{big['id']}/reverse", {"date": "2026-03-04"})
    assert r.status_code == 201
    assert by_rule(warnings(books, bid), T2026) == []
    (resolved,) = by_rule(warnings(books, bid, "resolved"), T2026)
    assert resolved["id"] == w["id"] and resolved["resolved_at"]


def _monthly_sales(api: Api, bid: int, months: list[str], amount: str) -> None:
    for m in months:
        quick(api, bid, "income", amount, "sales", f"{m}-15")


REG2026 = "cn.vat.general_taxpayer_registration.2026"
PROJ2026 = "cn.vat.general_taxpayer_projection.2026"


def test_rolling_12_months_warns_then_alerts_above_five_million(books: Api, business: dict) -> None:
    bid = business["id"]
    months = [f"2025-{m:02d}" for m in range(8, 13)] + [f"2026-{m:02d}" for m in range(1, 8)]
    _monthly_sales(books, bid, months, "400000.00")  # 12 x 400,000 = 4,800,000
    check(books, bid, "2026-07-31")
    (w,) = by_rule(warnings(books, bid), REG2026)
    assert (w["severity"], w["figures"]["rolling_sales"]) == ("warn", "4800000.00")
    assert w["figures"]["window_from"] == "2025-08" and w["figures"]["window_to"] == "2026-07"
    quick(books, bid, "income", "200000.00", "sales", "2026-07-20")  # exactly 5,000,000
    check(books, bid, "2026-07-31")
    (w,) = by_rule(warnings(books, bid), REG2026)
    assert (w["severity"], w["figures"]["rolling_sales"]) == ("warn", "5000000.00")
    quick(books, bid, "income", "0.01", "sales", "2026-07-21")
    check(books, bid, "2026-07-31")
    (w,) = by_rule(warnings(books, bid), REG2026)
    assert (w["severity"], w["figures"]["rolling_sales"]) == ("alert", "5000000.01")
    assert "retroactive" in w["message"]["en"] and "追溯" in w["message"]["zh"]


def test_projected_breach_from_the_recent_run_rate(books: Api, business: dict) -> None:
    bid = business["id"]
    # 3,600,000 in the window, below the 4,000,000 warning, but the last three months run at
    # 900,000: in three months the oldest (quiet) months drop out and the window passes 5M.
    quiet = [f"2025-{m:02d}" for m in range(8, 13)] + ["2026-01", "2026-02", "2026-03"]
    _monthly_sales(books, bid, quiet, "112500.00")  # 900,000
    _monthly_sales(books, bid, ["2026-04", "2026-05", "2026-06"], "900000.00")  # 2,700,000
    check(books, bid, "2026-07-01")
    items = warnings(books, bid)
    assert by_rule(items, REG2026) == []  # 3,600,000 actual: no warning yet
    (w,) = by_rule(items, PROJ2026)
    assert w["severity"] == "warn"
    assert w["figures"]["run_rate"] == "900000.00"
    assert w["figures"]["rolling_sales"] == "3600000.00"
    # Window to 2026-08: 3,600,000 - 112,500 (2025-08 drops out) + 900,000 = 4,387,500;
    # to 2026-09: 3,600,000 - 225,000 + 1,800,000 = 5,175,000 > 5,000,000.
    assert w["figures"]["breach_month"] == "2026-09"
    assert w["figures"]["projected_sales"] == "5962500.00"  # to 2026-10: - 337,500 + 2,700,000
    assert w["entries"]


def test_even_sales_with_the_same_total_do_not_project_a_breach(books: Api, business: dict) -> None:
    bid = business["id"]
    months = [f"2025-{m:02d}" for m in range(8, 13)] + [f"2026-{m:02d}" for m in range(1, 7)]
    _monthly_sales(books, bid, months, "327272.72")  # 11 months, about 3.6M, flat
    check(books, bid, "2026-07-01")
    assert by_rule(warnings(books, bid), PROJ2026) == []


def test_general_taxpayers_get_no_small_scale_rules(api: Api, owner: dict) -> None:
    from tests.conftest import new_business

    b = new_business(api, owner["access_token"], taxpayer_type="general")
    api.token = owner["access_token"]
    quick(api, b["id"], "income", "400000.00", "sales", "2026-03-10")
    check(api, b["id"], "2026-03-31")
    ids = {w["rule_id"] for w in warnings(api, b["id"])}
    assert not ids & {T2023, T2026, REG2026, PROJ2026}
