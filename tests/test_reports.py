"""Trial balance and ledgers, checked against sums computed independently from random entries."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from tests.conftest import Api

LEAVES = [
    "1001",
    "1002",
    "101201",
    "1122",
    "1405",
    "2202",
    "3001",
    "5001",
    "560201",
    "560203",
    "560301",
]


def to_fen(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, frac = text.lstrip("-").split(".")
    return sign * (int(whole) * 100 + int(frac))


@pytest.fixture
def random_books(books: Api, business: dict) -> dict:
    """Post 40 random balanced entries across March-May; return what was posted, per line."""
    rng = random.Random(7)
    bid = business["id"]
    posted = []
    entry_dates = []
    for _ in range(40):
        date = f"2026-{rng.choice(['03', '04', '05'])}-{rng.randint(1, 28):02d}"
        amounts = [rng.randint(1, 500_000) for _ in range(rng.randint(1, 3))]
        debit_accts = rng.sample(LEAVES, len(amounts))
        credit_acct = rng.choice([a for a in LEAVES if a not in debit_accts])
        lines = [
            {"account": a, "debit": f"{x // 100}.{x % 100:02d}"}
            for a, x in zip(debit_accts, amounts, strict=True)
        ]
        total = sum(amounts)
        lines.append({"account": credit_acct, "credit": f"{total // 100}.{total % 100:02d}"})
        r = books.post(f"/businesses/{bid}/entries", {"date": date, "lines": lines})
        assert r.status_code == 201, r.get_json()
        entry_dates.append(date)
        for a, x in zip(debit_accts, amounts, strict=True):
            posted.append((date, a, x, 0))
        posted.append((date, credit_acct, 0, total))
    return {"bid": bid, "posted": posted, "entry_dates": entry_dates}


def test_trial_balance_matches_independent_sums_and_balances(
    books: Api, random_books: dict
) -> None:
    bid, posted = random_books["bid"], random_books["posted"]
    tb = books.get(
        f"/businesses/{bid}/reports/trial-balance", query={"from": "2026-04-01", "to": "2026-04-30"}
    ).get_json()
    assert tb["balanced"]
    assert tb["total_debit"] == tb["total_credit"]
    assert tb["total_opening_debit"] == tb["total_opening_credit"]
    assert tb["total_closing_debit"] == tb["total_closing_credit"]
    expected_opening: dict[str, int] = defaultdict(int)
    expected_debit: dict[str, int] = defaultdict(int)
    expected_credit: dict[str, int] = defaultdict(int)
    for date, acct, d, c in posted:
        if date < "2026-04-01":
            expected_opening[acct] += d - c
        elif date <= "2026-04-30":
            expected_debit[acct] += d
            expected_credit[acct] += c
    rows = {r["account"]: r for r in tb["rows"] if r["is_leaf"]}
    for acct in LEAVES:
        if not (expected_opening[acct] or expected_debit[acct] or expected_credit[acct]):
            assert acct not in rows
            continue
        row = rows[acct]
        assert (
            to_fen(row["opening_debit"]) - to_fen(row["opening_credit"]) == expected_opening[acct]
        )
        assert to_fen(row["debit"]) == expected_debit[acct]
        assert to_fen(row["credit"]) == expected_credit[acct]
        closing = expected_opening[acct] + expected_debit[acct] - expected_credit[acct]
        assert to_fen(row["closing_debit"]) - to_fen(row["closing_credit"]) == closing
    assert to_fen(tb["total_debit"]) == sum(expected_debit.values())


def test_parent_rows_roll_up_their_children(books: Api, random_books: dict) -> None:
    tb = books.get(f"/businesses/{random_books['bid']}/reports/trial-balance").get_json()
    rows = {r["account"]: r for r in tb["rows"]}
    kids = [r for r in tb["rows"] if r["account"].startswith("5602") and r["account"] != "5602"]
    assert rows["5602"]["is_leaf"] is False
    assert to_fen(rows["5602"]["debit"]) == sum(to_fen(k["debit"]) for k in kids)


def test_ledger_running_balance(books: Api, random_books: dict) -> None:
    bid, posted = random_books["bid"], random_books["posted"]
    led = books.get(
        f"/businesses/{bid}/accounts/1001/ledger", query={"from": "2026-04-01", "to": "2026-05-31"}
    ).get_json()
    opening = sum(d - c for date, a, d, c in posted if a == "1001" and date < "2026-04-01")
    assert to_fen(led["opening_balance"]) == opening
    running = opening
    for row in led["rows"]:
        running += to_fen(row["debit"]) - to_fen(row["credit"])
        assert to_fen(row["balance"]) == running
    dates = [r["date"] for r in led["rows"]]
    assert dates == sorted(dates) and all("2026-04-01" <= d <= "2026-05-31" for d in dates)
    assert to_fen(led["closing_balance"]) == opening + sum(
        d - c for date, a, d, c in posted if a == "1001" and "2026-04-01" <= date <= "2026-05-31"
    )


def test_credit_normal_accounts_show_positive_balances(books: Api, random_books: dict) -> None:
    bid, posted = random_books["bid"], random_books["posted"]
    led = books.get(f"/businesses/{bid}/accounts/5001/ledger").get_json()
    assert led["normal_side"] == "credit"
    assert to_fen(led["closing_balance"]) == sum(c - d for _, a, d, c in posted if a == "5001")


def test_entries_feed_filters_and_pages(books: Api, random_books: dict) -> None:
    bid = random_books["bid"]
    seen = []
    cursor = None
    while True:
        q = {"limit": "7", "from": "2026-04-01", "to": "2026-04-30"}
        if cursor:
            q["cursor"] = cursor
        page = books.get(f"/businesses/{bid}/entries", query=q).get_json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len({e["id"] for e in seen}) == len(seen)
    assert [e["date"] for e in seen] == sorted((e["date"] for e in seen), reverse=True)
    assert len(seen) == sum(d.startswith("2026-04") for d in random_books["entry_dates"]) > 7
    by_account = books.get(
        f"/businesses/{bid}/entries", query={"account": "1122", "limit": "100"}
    ).get_json()["items"]
    assert by_account and all(any(ln["account"] == "1122" for ln in e["lines"]) for e in by_account)
    big = books.get(
        f"/businesses/{bid}/entries", query={"min_amount": "3000.00", "limit": "100"}
    ).get_json()["items"]
    assert all(to_fen(e["total"]) >= 300_000 for e in big)
    bad = books.get(f"/businesses/{bid}/entries", query={"cursor": "garbage"})
    assert bad.status_code == 422
    unknown = books.get(f"/businesses/{bid}/entries", query={"sort": "amount"})
    assert unknown.status_code == 422 and unknown.get_json()["error"]["code"] == "unknown_field"


def test_memo_search(books: Api, business: dict) -> None:
    bid = business["id"]
    for memo in ("买咖啡豆", "交房租", "咖啡机维修"):
        books.post(
            f"/businesses/{bid}/entries/quick",
            {
                "kind": "expense",
                "amount": "1.00",
                "category": "other",
                "paid_with": "cash",
                "memo": memo,
            },
        )
    found = books.get(f"/businesses/{bid}/entries", query={"q": "咖啡"}).get_json()["items"]
    assert sorted(e["memo"] for e in found) == ["买咖啡豆", "咖啡机维修"]


def test_balances_on_a_date_are_on_each_accounts_normal_side(
    books: Api, random_books: dict
) -> None:
    bid, posted = random_books["bid"], random_books["posted"]
    items = books.get(
        f"/businesses/{bid}/reports/balances", query={"as_of": "2026-04-30"}
    ).get_json()["items"]
    by_code = {i["account"]: i for i in items}
    credit_normal = {"2202", "3001", "5001"}
    for acct in LEAVES:
        net = sum(d - c for date, a, d, c in posted if a == acct and date <= "2026-04-30")
        moved = any(a == acct and date <= "2026-04-30" for date, a, *_ in posted)
        if not moved:
            assert acct not in by_code
            continue
        expected = -net if acct in credit_normal else net
        assert to_fen(by_code[acct]["balance"]) == expected, acct
    assert by_code["1012"]["is_leaf"] is False
    assert to_fen(by_code["1012"]["balance"]) == to_fen(by_code["101201"]["balance"]) + (
        to_fen(by_code["101202"]["balance"]) if "101202" in by_code else 0
    )
