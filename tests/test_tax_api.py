"""The warnings API the dashboard reads, invoice references, the tax profile, and errors."""

from __future__ import annotations

from tests.conftest import Api, join
from tests.tax_helpers import by_rule, check, profile, quick, warnings

DUP = "cn.risk.duplicate_fapiao"
NO_INVOICE = "cn.risk.expense_without_invoice"
DIGITAL = "25442000000012341234"


def _attach(api: Api, bid: int, eid: int, number: str, code: str | None = None):  # type: ignore[no-untyped-def]
    body = {"number": number, **({"code": code} if code else {})}
    return api.post(f"/businesses/{bid}/entries/{eid}/invoices", body)


def test_the_list_carries_everything_the_dashboard_shows(books: Api, business: dict) -> None:
    bid = business["id"]
    profile(books, bid, vat_filing_basis="monthly")
    e = quick(books, bid, "income", "100000.00", "sales", "2026-03-10")
    r = books.get(f"/businesses/{bid}/tax/warnings")
    assert r.status_code == 200
    body = r.get_json()
    assert body["counts"] == {"open": 1, "acknowledged": 0, "alert": 1, "warn": 0}
    (w,) = body["items"]
    assert set(w) >= {
        "id", "rule_id", "period", "severity", "state", "title", "message", "note", "figures",
        "entries", "basis", "unconfirmed", "needs_confirmation", "pack", "first_seen_at",
    }  # fmt: skip
    assert w["title"]["zh"] and w["title"]["en"] and w["note"]["en"]
    assert w["needs_confirmation"]["en"] == "needs confirmation by your tax adviser"
    assert w["entries"] == [
        {"id": e["id"], "number": e["number"], "date": "2026-03-10", "memo": e["memo"]}
    ]
    assert w["pack"]["id"] == "cn-small-business"


def test_fapiao_presented_twice(books: Api, business: dict) -> None:
    bid = business["id"]
    a = quick(books, bid, "expense", "300.00", "meals", "2026-03-05")
    b = quick(books, bid, "expense", "300.00", "meals", "2026-03-06")
    r = _attach(books, bid, a["id"], DIGITAL)
    assert r.status_code == 201 and r.get_json()["also_on_entries"] == []
    r = _attach(books, bid, b["id"], DIGITAL)
    assert r.status_code == 201 and r.get_json()["also_on_entries"] == [a["id"]]
    assert _attach(books, bid, b["id"], DIGITAL).status_code == 409
    check(books, bid, "2026-03-31")
    (w,) = by_rule(warnings(books, bid), DUP)
    assert (w["severity"], w["period"], w["figures"]["times"]) == ("alert", f"fapiao:{DIGITAL}", 2)
    assert sorted(x["id"] for x in w["entries"]) == sorted([a["id"], b["id"]])
    # Reversing the second booking clears it.
    books.post(f"/businesses/{bid}/entries/{b['id']}/reverse", {"date": "2026-03-31"})
    check(books, bid, "2026-03-31")
    assert by_rule(warnings(books, bid), DUP) == []


def test_legacy_invoice_numbers_and_bad_numbers(books: Api, business: dict) -> None:
    bid = business["id"]
    e = quick(books, bid, "expense", "64.90", "office", "2026-03-05")
    r = _attach(books, bid, e["id"], "80100798", code="011001605111")
    assert r.status_code == 201 and r.get_json()["invoice"] == "011001605111-80100798"
    for number, code in (("123", None), ("80100798", None), ("80100798", "12345")):
        r = _attach(books, bid, e["id"], number, code)
        assert r.status_code == 422, r.get_json()
        assert set(r.get_json()["error"]) >= {"code", "message"}
    assert _attach(books, bid, 999999, DIGITAL).status_code == 404


def test_expenses_without_invoice_only_once_invoices_are_recorded(
    books: Api, business: dict
) -> None:
    bid = business["id"]
    a = quick(books, bid, "expense", "3000.00", "office", "2026-03-05")
    quick(books, bid, "expense", "2000.00", "travel", "2026-03-06")
    quick(books, bid, "expense", "9000.00", "salary", "2026-03-06")  # wages: excluded
    check(books, bid, "2026-03-31")
    assert by_rule(warnings(books, bid), NO_INVOICE) == []  # no invoice data yet: no data source
    _attach(books, bid, a["id"], DIGITAL)
    check(books, bid, "2026-03-31")
    (w,) = by_rule(warnings(books, bid), NO_INVOICE)
    assert (w["severity"], w["figures"]["share"], w["figures"]["without_invoice"]) == (
        "alert",
        "40.00%",
        "2000.00",
    )


def test_profile_defaults_and_changes(books: Api, business: dict) -> None:
    bid = business["id"]
    p = books.get(f"/businesses/{bid}/tax/profile").get_json()
    assert (p["vat_filing_basis"], p["cit_payer"], p["is_default"]) == ("quarterly", True, True)
    p = profile(books, bid, vat_filing_basis="monthly", vat_burden_benchmark="1.5")
    assert (p["vat_filing_basis"], p["vat_burden_benchmark"]) == ("monthly", "1.50%")
    p = profile(books, bid, clear_vat_burden_benchmark=True)
    assert p["vat_burden_benchmark"] is None and p["vat_filing_basis"] == "monthly"
    r = books.post(f"/businesses/{bid}/tax/profile", {"vat_filing_basis": "yearly"})
    assert r.status_code == 422 and r.get_json()["error"]["code"]
    r = books.post(f"/businesses/{bid}/tax/profile", {"vat_burden_benchmark": 1.5})
    assert r.status_code == 422


def test_errors_are_json_with_the_right_status(books: Api, business: dict, api: Api) -> None:
    bid = business["id"]
    r = books.post(f"/businesses/{bid}/tax/warnings/acknowledge", {"ids": [12345]})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "warning_not_found"
    r = books.post(f"/businesses/{bid}/tax/warnings/acknowledge", {"ids": []})
    assert r.status_code == 422
    r = books.get(f"/businesses/{bid}/tax/warnings", query={"state": "closed"})
    assert r.status_code == 422
    r = books.post(f"/businesses/{bid}/tax/check", {"date": "2026-02-30"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid_date"
    r = books.post(
        f"/businesses/{bid}/tax/check", {"date": "2026-03-31"}, headers={"Idempotency-Key": "k1"}
    )
    again = books.post(
        f"/businesses/{bid}/tax/check", {"date": "2026-03-31"}, headers={"Idempotency-Key": "k1"}
    )
    assert r.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_viewer_reads_warnings_but_cannot_acknowledge(
    api: Api, owner: dict, business: dict
) -> None:
    bid = business["id"]
    viewer = join(api, owner["access_token"], bid, "viewer", "vicky")
    api.token = owner["access_token"]
    profile(api, bid, vat_filing_basis="monthly")
    quick(api, bid, "income", "100000.00", "sales", "2026-03-10")
    (w,) = api.get(f"/businesses/{bid}/tax/warnings", token=viewer).get_json()["items"]
    r = api.post(f"/businesses/{bid}/tax/warnings/acknowledge", {"ids": [w["id"]]}, token=viewer)
    assert r.status_code == 403


def test_rule_packs_are_listed(books: Api) -> None:
    body = books.get("/tax/rules").get_json()
    (pack,) = body["packs"]
    assert pack["id"] == "cn-small-business" and len(pack["rules"]) >= 18
