"""Every error is JSON with the right status; no HTML pages, no 500s for bad input."""

from __future__ import annotations

from tests.conftest import Api


def test_unknown_url_and_wrong_method_are_json(api: Api, owner: dict) -> None:
    r = api.get("/nope")
    assert r.status_code == 404 and r.is_json and r.get_json()["error"]["code"] == "not_found"
    r = api.request("PUT", "/businesses", {}, token=owner["access_token"])
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in r.headers["Allow"]


def test_oversized_body_is_413(app_factory) -> None:
    app = app_factory(MAX_CONTENT_LENGTH=1024)
    api = Api(app.test_client())
    r = api.post(
        "/auth/register", data="{" + " " * 5000 + "}", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "request_entity_too_large"


def test_unexpected_errors_are_json_500_without_details(app_factory) -> None:
    app = app_factory()

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    r = app.test_client().get("/boom")
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "internal_error"
    assert "secret" not in r.get_data(as_text=True)


def test_non_object_and_non_utf8_bodies(books: Api, business: dict) -> None:
    url = f"/businesses/{business['id']}/entries/quick"
    for raw in (b'"a string"', b"\xff\xfe{}", b"null"):
        r = books.post(url, data=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed_json"


def test_query_refusals(books: Api, business: dict) -> None:
    url = f"/businesses/{business['id']}/reports/trial-balance"
    for q in ({"from": "2026-13-01"}, {"from": "yesterday"}, {"limit": "5"}):
        r = books.get(url, query=q)
        assert r.status_code == 422, q
    r = books.get(f"/businesses/{business['id']}/entries", query={"limit": "0"})
    assert r.status_code == 422
    r = books.get(f"/businesses/{business['id']}/accounts/9999/ledger")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "account_not_found"
