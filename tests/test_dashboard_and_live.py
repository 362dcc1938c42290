"""The dashboard's figures and the live feed that keeps an open dashboard current."""

from __future__ import annotations

from tests.conftest import Api, join


def to_fen(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, frac = text.lstrip("-").split(".")
    return sign * (int(whole) * 100 + int(frac))


def quick(
    api: Api,
    bid: int,
    kind: str,
    amount: str,
    category: str,
    paid_with: str,
    date: str,
    token: str | None = None,
) -> dict:
    body = {
        "kind": kind,
        "amount": amount,
        "category": category,
        "paid_with": paid_with,
        "date": date,
    }
    r = api.post(f"/businesses/{bid}/entries/quick", body, token=token)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_dashboard_figures(books: Api, business: dict) -> None:
    bid = business["id"]
    books.post(
        f"/businesses/{bid}/entries",
        {
            "date": "2026-01-02",
            "lines": [
                {"account": "1002", "debit": "10000.00"},
                {"account": "3001", "credit": "10000.00"},
            ],
        },
    )
    quick(books, bid, "income", "800.00", "sales", "wechat", "2026-02-10")
    quick(books, bid, "expense", "300.00", "rent", "bank", "2026-02-11")
    quick(books, bid, "income", "1200.50", "sales", "alipay", "2026-03-03")
    quick(books, bid, "income", "99.50", "service", "cash", "2026-03-04")
    quick(books, bid, "expense", "35.50", "meals", "cash", "2026-03-05")
    quick(books, bid, "expense", "120.00", "office", "wechat", "2026-03-06")
    d = books.get(f"/businesses/{bid}/reports/dashboard", query={"as_of": "2026-03-31"}).get_json()
    assert d["this_month"] == {
        "month": "2026-03",
        "income": "1300.00",
        "expense": "155.50",
        "profit": "1144.50",
    }
    assert d["last_month"] == {
        "month": "2026-02",
        "income": "800.00",
        "expense": "300.00",
        "profit": "500.00",
    }
    assert (
        len(d["trend"]) == 12
        and d["trend"][0]["month"] == "2025-04"
        and d["trend"][-1]["month"] == "2026-03"
    )
    assert d["money"] == {
        "cash": "64.00",
        "bank": "9700.00",
        "wechat": "680.00",
        "alipay": "1200.50",
        "total": "11644.50",
    }
    assert [(c["account"], c["amount"]) for c in d["expense_by_category"]] == [
        ("560201", "120.00"),
        ("560203", "35.50"),
    ]
    assert [e["memo"] for e in d["recent_entries"]][:2] == ["办公", "餐饮招待"]
    # As of an earlier date, later entries do not count.
    early = books.get(
        f"/businesses/{bid}/reports/dashboard", query={"as_of": "2026-02-28"}
    ).get_json()
    assert early["money"]["total"] == "10500.00"


def test_live_feed_sends_what_other_members_post(api: Api, owner: dict, business: dict) -> None:
    bid = business["id"]
    bookkeeper = join(api, owner["access_token"], bid, "bookkeeper", "bob")
    first = api.get(f"/businesses/{bid}/events", token=owner["access_token"])
    assert first.status_code == 200 and first.mimetype == "text/event-stream"
    text = first.get_data(as_text=True)
    assert "retry: 2000" in text and "event: hello" in text
    last_id = int(next(ln for ln in text.splitlines() if ln.startswith("id: "))[4:])
    posted = quick(api, bid, "expense", "12.00", "office", "cash", "2026-03-01", token=bookkeeper)
    nothing_new = api.get(
        f"/businesses/{bid}/events",
        headers={"Last-Event-ID": str(posted["id"])},
        token=owner["access_token"],
    )
    assert "event: entry" not in nothing_new.get_data(as_text=True)
    update = api.get(
        f"/businesses/{bid}/events",
        headers={"Last-Event-ID": str(last_id)},
        token=owner["access_token"],
    ).get_data(as_text=True)
    assert (
        f"id: {posted['id']}" in update and "event: entry" in update and '"total":"12.00"' in update
    )


def test_live_feed_is_tenant_scoped(api: Api, owner: dict, business: dict) -> None:
    from tests.conftest import OTHER_USCC, new_business, register

    other = register(api, "other")
    theirs = new_business(api, other["access_token"], "别家", uscc=OTHER_USCC)
    quick(
        api,
        theirs["id"],
        "expense",
        "1.00",
        "office",
        "cash",
        "2026-03-01",
        token=other["access_token"],
    )
    r = api.get(
        f"/businesses/{business['id']}/events",
        headers={"Last-Event-ID": "0"},
        token=owner["access_token"],
    )
    assert "event: entry" not in r.get_data(as_text=True)
