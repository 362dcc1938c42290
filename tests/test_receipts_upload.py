"""Receipt uploads through the HTTP API: photos made here go in, cleaned images and parsed
fapiao come out; what is not an image, too big or a bomb is refused and changes nothing."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from app.models import ChainLeaf, Receipt
from tests.claims_helpers import team, upload
from tests.conftest import Api
from tests.receipt_images import SAMPLES, invoice_page, phone_photo


@pytest.fixture
def t(api: Api) -> dict:
    return team(api)


def state() -> tuple[int, int]:
    return Receipt.select().count(), ChainLeaf.select().count()


@pytest.mark.parametrize(
    "kind,options",
    [
        ("special", {}),
        ("electronic_ordinary", {"angle": 90}),
        ("paper_ordinary", {"angle": 17}),
        ("digital_ordinary", {"warp": 0.08}),
        ("digital_special", {"blur": 2.0}),
        ("special", {"quality": 30}),
        ("electronic_ordinary", {"angle": -9, "warp": 0.05, "blur": 1.2, "quality": 55}),
    ],
    ids=["plain", "rotated90", "rotated17", "perspective", "blurred", "jpeg-q30", "all-12mp"],
)
def test_phone_photos_are_decoded_and_parsed(api: Api, t: dict, kind: str, options: dict) -> None:
    photo = phone_photo(SAMPLES[kind], size=(4000, 3000), **options)
    assert Image.open(io.BytesIO(photo)).size == (4000, 3000)  # 12 MP
    r = upload(api, t["bid"], photo, t["employee"])
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["qr_found"] is True and body["qr_raw"] == SAMPLES[kind]
    fields = SAMPLES[kind].split(",")
    f = body["fapiao"]
    assert f["kind"] == fields[1] and f["number"] == fields[3]
    assert (f["code"] or "") == fields[2]
    assert body["invoice_date"] == f"{fields[5][:4]}-{fields[5][4:6]}-{fields[5][6:]}"
    assert max(body["width"], body["height"]) == 2000
    img = api.get(body["image_url"], token=t["employee"])
    assert img.status_code == 200 and img.mimetype == "image/jpeg"
    stored = Image.open(io.BytesIO(img.data))
    assert max(stored.size) == 2000
    thumb = api.get(body["thumb_url"], token=t["employee"])
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 320


def test_amount_basis_depends_on_the_kind(api: Api, t: dict) -> None:
    legacy = upload(
        api, t["bid"], phone_photo(SAMPLES["special"], size=(1600, 1200)), t["employee"]
    )
    digital = upload(
        api, t["bid"], phone_photo(SAMPLES["digital_ordinary"], size=(1600, 1200)), t["employee"]
    )
    assert legacy.get_json()["fapiao"]["amount"] == "94339.62"
    assert legacy.get_json()["amount_basis"] == "excl_tax"
    assert legacy.get_json()["fapiao"]["kind_name"] == "增值税专用发票"
    assert digital.get_json()["amount_basis"] == "incl_tax_unconfirmed"
    assert digital.get_json()["fapiao"]["invoice_key"] == "24312000000136634917"
    assert digital.get_json()["fapiao"]["code"] is None


def _gps_exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (31.0, 13.0, 50.0)
    gps[3] = "E"
    gps[4] = (121.0, 28.0, 10.0)
    return exif.tobytes()


def test_gps_exif_is_stripped_and_orientation_applied(api: Api, t: dict) -> None:
    photo = phone_photo(SAMPLES["special"], size=(2400, 1800), exif=_gps_exif(6))
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)  # the upload has GPS
    r = upload(api, t["bid"], photo, t["employee"])
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    # Orientation 6 = rotate 90° clockwise for display: the stored image is portrait.
    assert (body["width"], body["height"]) == (1500, 2000)
    assert body["qr_found"]
    data = api.get(body["image_url"], token=t["owner"]).data
    stored = Image.open(io.BytesIO(data))
    assert len(stored.getexif()) == 0
    assert b"Exif" not in data and b"PhoneMaker" not in data
    assert "exif" not in stored.info and "icc_profile" not in stored.info


@pytest.mark.parametrize("fmt,name", [("PNG", "a.png"), ("WEBP", "a.webp"), ("HEIF", "a.heic")])
def test_png_webp_and_iphone_heic_are_accepted(api: Api, t: dict, fmt: str, name: str) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    photo = phone_photo(SAMPLES["digital_special"], size=(2000, 1500), fmt=fmt, quality=90)
    r = upload(api, t["bid"], photo, t["employee"], name=name)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["source_format"] == fmt
    assert r.get_json()["fapiao"]["number"] == "24922000000012341234"


def test_no_qr_is_accepted_and_said(api: Api, t: dict) -> None:
    r = upload(api, t["bid"], phone_photo(None, size=(1600, 1200)), t["employee"])
    assert r.status_code == 201
    assert r.get_json()["qr_found"] is False and r.get_json()["fapiao"] is None


def test_a_qr_that_is_not_a_fapiao_is_kept_raw(api: Api, t: dict) -> None:
    r = upload(
        api, t["bid"], phone_photo("https://example.com/menu", size=(1600, 1200)), t["employee"]
    )
    assert r.status_code == 201
    assert r.get_json()["qr_raw"] == "https://example.com/menu"
    assert r.get_json()["fapiao"] is None and r.get_json()["invoice_key"] is None


def _bomb_png() -> bytes:
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")  # 400 MP in a few dozen KB
    return out.getvalue()


@pytest.mark.parametrize(
    "make,status,code",
    [
        (lambda: b"%PDF-1.7 not an image" * 100, 422, "not_an_image"),
        (lambda: "发票".encode() * 1000, 422, "not_an_image"),
        (lambda: b"", 422, "not_an_image"),
        (lambda: phone_photo(SAMPLES["special"], size=(800, 600), fmt="GIF"), 422, "not_an_image"),
        (_bomb_png, 422, "image_too_large"),
        (lambda: b"\xff\xd8\xff\xe0" + b"\0" * (15 * 1024 * 1024), 413, "file_too_large"),
    ],
    ids=["pdf", "text", "empty", "gif", "bomb", "over-15mb"],
)
def test_refused_uploads_change_nothing(api: Api, t: dict, make, status: int, code: str) -> None:
    data = make()
    if code == "image_too_large":
        assert len(data) < 200_000
    before = state()
    r = upload(api, t["bid"], data, t["employee"], name="receipt.jpg")
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"]["code"] == code
    assert state() == before


def test_body_over_the_request_limit_is_a_json_413(api: Api, t: dict) -> None:
    r = upload(api, t["bid"], b"\0" * (17 * 1024 * 1024), t["employee"])
    assert r.status_code == 413 and "error" in r.get_json()


def test_json_instead_of_multipart_is_415(api: Api, t: dict) -> None:
    r = api.post(f"/businesses/{t['bid']}/receipts", {"file": "x"}, token=t["employee"])
    assert r.status_code == 415 and r.get_json()["error"]["code"] == "unsupported_media_type"
    r = upload(api, t["bid"], b"x", t["employee"], field="other")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "missing_file"


def test_same_invoice_twice_is_409_naming_the_claim_and_filer(api: Api, t: dict) -> None:
    first = upload(api, t["bid"], phone_photo(SAMPLES["special"], size=(1600, 1200)), t["employee"])
    rid = first.get_json()["id"]
    claim = api.post(
        f"/businesses/{t['bid']}/claims",
        {"category": "office", "amount": "100000.00", "receipts": [rid], "submit": True},
        token=t["employee"],
    )
    assert claim.status_code == 201, claim.get_json()
    before = state()
    # A different photo of the same invoice, by someone else.
    again = phone_photo(SAMPLES["special"], size=(2000, 1500), angle=12, seed=3)
    r = upload(api, t["bid"], again, t["employee2"])
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "duplicate_invoice"
    assert err["details"]["claim_id"] == claim.get_json()["id"]
    assert err["details"]["filed_by"]["name"] == "emma"
    assert "emma" in err["message"] and f"#{claim.get_json()['id']}" in err["message"]
    assert state() == before


def test_same_20_digit_number_is_a_duplicate_whatever_the_rest(api: Api, t: dict) -> None:
    a = "01,32,,25442000000012341234,666.00,20250208,,A6A1"
    b = "01,32,,25442000000012341234,666.00,20250208,,"  # same invoice, CRC left out
    assert (
        upload(api, t["bid"], phone_photo(a, size=(1600, 1200)), t["employee"]).status_code == 201
    )
    r = upload(api, t["bid"], phone_photo(b, size=(1600, 1200)), t["employee"])
    assert r.status_code == 409 and r.get_json()["error"]["details"]["claim_id"] is None


def test_same_photo_is_flagged(api: Api, t: dict) -> None:
    photo = phone_photo(None, size=(1600, 1200), seed=7)
    first = upload(api, t["bid"], photo, t["employee"]).get_json()
    second = upload(api, t["bid"], photo, t["employee"]).get_json()
    assert first["duplicate_photo_of"] == []
    assert second["duplicate_photo_of"] == [first["id"]]
    assert second["sha256"] == first["sha256"]


def test_receipt_added_is_on_the_chain_with_hash_and_fields(api: Api, t: dict) -> None:
    body = upload(
        api, t["bid"], phone_photo(SAMPLES["special"], size=(1600, 1200)), t["employee"]
    ).get_json()
    leaf = ChainLeaf.select().where(ChainLeaf.type == "receipt.added").get()
    content = json.loads(leaf.data)["content"]
    assert content["sha256"] == body["sha256"]
    assert content["fapiao"]["number"] == "03630024"
    assert content["qr_raw"] == SAMPLES["special"]


def test_employees_see_only_their_own_receipts(api: Api, t: dict) -> None:
    body = upload(api, t["bid"], phone_photo(None, size=(800, 600)), t["employee"]).get_json()
    assert api.get(body["image_url"], token=t["employee2"]).status_code == 404
    assert (
        api.get(f"/businesses/{t['bid']}/receipts/{body['id']}", token=t["employee2"]).status_code
        == 404
    )
    assert api.get(body["image_url"], token=t["bookkeeper"]).status_code == 200


def test_viewer_cannot_upload(api: Api, t: dict) -> None:
    r = upload(api, t["bid"], phone_photo(None, size=(800, 600)), t["viewer"])
    assert r.status_code == 403 and state() == (0, state()[1])


def test_an_invoice_page_scan_without_table_decodes(api: Api, t: dict) -> None:
    page = invoice_page(SAMPLES["paper_ordinary"])
    out = io.BytesIO()
    page.save(out, "PNG")
    r = upload(api, t["bid"], out.getvalue(), t["employee"], name="scan.png")
    assert r.get_json()["fapiao"]["check_code"] == "48114255542168294433"
