from tests.conftest import Api


def test_register_creates_business_and_posts_quick_record(books: Api, business: dict) -> None:
    bid = business["id"]
    r = books.post(
        f"/businesses/{bid}/entries/quick",
        {
            "kind": "expense",
            "amount": "35.50",
            "category": "meals",
            "paid_with": "wechat",
            "date": "2026-03-05",
        },
    )
    assert r.status_code == 201, r.get_json()
    entry = r.get_json()
    assert [(ln["account"], ln["debit"], ln["credit"]) for ln in entry["lines"]] == [
        ("560203", "35.50", "0.00"),
        ("101201", "0.00", "35.50"),
    ]
