"""A phone that loses the answer to an upload retries it with the same Idempotency-Key."""

from __future__ import annotations

from app.models import Receipt
from tests.claims_helpers import team, upload
from tests.conftest import Api
from tests.receipt_images import SAMPLES, phone_photo


def test_retried_upload_stores_one_receipt_and_replays_the_answer(api: Api) -> None:
    t = team(api)
    photo = phone_photo(SAMPLES["special"], size=(1200, 900))
    first = upload(api, t["bid"], photo, t["employee"], headers={"Idempotency-Key": "up-1"})
    assert first.status_code == 201, first.get_json()
    again = upload(api, t["bid"], photo, t["employee"], headers={"Idempotency-Key": "up-1"})
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    assert Receipt.select().count() == 1
    other = upload(
        api,
        t["bid"],
        phone_photo(SAMPLES["digital_ordinary"], size=(1200, 900)),
        t["employee"],
        headers={"Idempotency-Key": "up-1"},
    )
    assert (
        other.status_code == 422 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    )
