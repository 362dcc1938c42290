"""Idempotency-Key: phones on bad networks retry; nothing may be posted twice."""

from __future__ import annotations

import threading

from app.models import Business, Entry, IdempotencyRecord
from tests.conftest import Api

QUICK = {
    "kind": "expense",
    "amount": "35.50",
    "category": "meals",
    "paid_with": "wechat",
    "date": "2026-03-05",
}


def test_retry_with_same_key_posts_once_and_replays_the_response(
    books: Api, business: dict
) -> None:
    url = f"/businesses/{business['id']}/entries/quick"
    first = books.post(url, QUICK, headers={"Idempotency-Key": "k-1"})
    second = books.post(url, QUICK, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert Entry.select().count() == 1
    third = books.post(url, QUICK, headers={"Idempotency-Key": "k-2"})
    assert third.status_code == 201 and Entry.select().count() == 2


def test_same_key_with_a_different_body_is_422(books: Api, business: dict) -> None:
    url = f"/businesses/{business['id']}/entries/quick"
    books.post(url, QUICK, headers={"Idempotency-Key": "k"})
    r = books.post(url, {**QUICK, "amount": "99.00"}, headers={"Idempotency-Key": "k"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "idempotency_key_reused"
    assert Entry.select().count() == 1


def test_key_order_in_json_does_not_matter(books: Api, business: dict) -> None:
    url = f"/businesses/{business['id']}/entries/quick"
    books.post(url, QUICK, headers={"Idempotency-Key": "k"})
    reordered = dict(reversed(list(QUICK.items())))
    assert books.post(url, reordered, headers={"Idempotency-Key": "k"}).status_code == 201
    assert Entry.select().count() == 1


def test_refused_request_is_not_remembered_and_can_be_retried_fixed(
    books: Api, business: dict
) -> None:
    url = f"/businesses/{business['id']}/entries/quick"
    bad = books.post(url, {**QUICK, "category": "sales"}, headers={"Idempotency-Key": "k"})
    assert bad.status_code == 422 and IdempotencyRecord.select().count() == 0
    ok = books.post(url, {**QUICK, "category": "sales"}, headers={"Idempotency-Key": "k"})
    assert ok.status_code == 422  # same mistake, same answer, still nothing posted
    assert Entry.select().count() == 0


def test_keys_are_per_user(api: Api, owner: dict, business: dict) -> None:
    from tests.conftest import join

    url = f"/businesses/{business['id']}/entries/quick"
    bk = join(api, owner["access_token"], business["id"], "bookkeeper", "bob")
    assert (
        api.post(
            url, QUICK, headers={"Idempotency-Key": "same"}, token=owner["access_token"]
        ).status_code
        == 201
    )
    r = api.post(url, QUICK, headers={"Idempotency-Key": "same"}, token=bk)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert Entry.select().count() == 2


def test_every_kind_of_post_replays(books: Api, business: dict) -> None:
    bid = business["id"]
    lines = [{"account": "1001", "debit": "10.00"}, {"account": "5001", "credit": "10.00"}]
    e = books.post(
        f"/businesses/{bid}/entries",
        {"date": "2026-03-01", "lines": lines},
        headers={"Idempotency-Key": "e"},
    ).get_json()
    for _ in range(2):
        r = books.post(
            f"/businesses/{bid}/entries/{e['id']}/reverse", {}, headers={"Idempotency-Key": "r"}
        )
        assert r.status_code == 201
    assert Entry.select().count() == 2
    for _ in range(2):
        assert (
            books.post(
                f"/businesses/{bid}/periods/2026-01/close", {}, headers={"Idempotency-Key": "c"}
            ).status_code
            == 200
        )
    for _ in range(2):
        assert (
            books.post(
                "/businesses",
                {"name": "二店", "uscc": "91340600MA2PBM9HXD", "taxpayer_type": "general"},
                headers={"Idempotency-Key": "b"},
            ).status_code
            == 201
        )
    assert Business.select().count() == 2


def test_invalid_key_is_400(books: Api, business: dict) -> None:
    r = books.post(
        f"/businesses/{business['id']}/entries/quick", QUICK, headers={"Idempotency-Key": "x" * 300}
    )
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_idempotency_key"


def test_concurrent_retries_post_once(app_factory, tmp_path) -> None:
    """Two copies of the same request racing on two connections still post once."""
    from tests.conftest import new_business, register

    app = app_factory()
    api = Api(app.test_client())
    token = register(api, "racer")["access_token"]
    bid = new_business(api, token)["id"]
    url = f"/api/v1/businesses/{bid}/entries/quick"
    results: list[int] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        c = app.test_client()
        barrier.wait()
        r = c.post(
            url, json=QUICK, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "race"}
        )
        results.append(r.status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [201] * 4
    assert Entry.select().count() == 1
