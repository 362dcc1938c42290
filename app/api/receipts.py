"""Receipt photos: upload (multipart), read, and the stored image.

The upload body is multipart/form-data with one `file` part, parsed here rather than by
`route()` (which validates JSON bodies); errors keep the API's JSON shape and status rules:
413 for a file over RECEIPT_MAX_BYTES, 422 for what is not a JPEG/PNG/WebP/HEIC image or would
inflate beyond RECEIPT_MAX_PIXELS, 409 for an invoice already claimed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from flask import Response, current_app, g, request

from app.api.routing import route
from app.api.schemas import Query
from app.errors import BadRequest
from app.receipts import service
from app.receipts.image import Limits, TooLarge
from app.storage import LocalStorage


class ImageQuery(Query):
    size: Literal["full", "thumb"] = "full"


def storage() -> LocalStorage:
    """The configured blob storage (local files under instance/ for now)."""
    cfg = current_app.config
    root = cfg.get("RECEIPTS_DIR") or str(Path(cfg["INSTANCE_PATH"]) / "receipts")
    return LocalStorage(root)


def limits() -> Limits:
    cfg = current_app.config
    return Limits(
        max_bytes=cfg["RECEIPT_MAX_BYTES"],
        max_pixels=cfg["RECEIPT_MAX_PIXELS"],
        max_side=cfg["RECEIPT_MAX_SIDE"],
    )


def uploaded_bytes(lim: Limits) -> bytes:
    ctype = request.mimetype or ""
    if ctype != "multipart/form-data":
        raise BadRequest(
            "Send the photo as multipart/form-data with a `file` part",
            code="unsupported_media_type",
            status=415,
        )
    f = request.files.get("file")
    if f is None:
        raise BadRequest("multipart part `file` is missing", code="missing_file")
    try:
        data = f.stream.read(lim.max_bytes + 1)
    finally:
        f.close()  # large parts are spooled to a temporary file
    if len(data) > lim.max_bytes:
        raise TooLarge(
            f"The file is larger than {lim.max_bytes:,} bytes",
            details={"max_bytes": lim.max_bytes},
        )
    return data


@route(
    "/businesses/<int:business_id>/receipts",
    "POST",
    summary="Upload a receipt photo (multipart `file`); reads the fapiao QR",
    tag="claims",
    action="file_claims",
    status=201,
    errors=[409, 413, 415, 422],
    upload="file",
)
def upload_receipt(business_id: int) -> dict[str, Any]:
    """multipart/form-data, part `file`: a JPEG, PNG, WebP or HEIC photo of at most 15 MB.

    The photo is oriented, stripped of all metadata, shrunk to 2,000 px and stored by SHA-256;
    the answer has the parsed fapiao fields (or `qr_found: false`) and `duplicate_photo_of`."""
    lim = limits()
    data = uploaded_bytes(lim)
    return service.add_receipt(business_id, g.user_id, data, storage(), lim)


@route(
    "/businesses/<int:business_id>/receipts/<int:receipt_id>",
    "GET",
    summary="A receipt and its parsed fapiao",
    tag="claims",
    action="read_claims",
)
def get_receipt(business_id: int, receipt_id: int) -> dict[str, Any]:
    r = service.get_receipt(business_id, receipt_id, g.user_id, g.membership.role)
    return service.receipt_dict(r, service.same_photo(business_id, r))


@route(
    "/businesses/<int:business_id>/receipts/<int:receipt_id>/image",
    "GET",
    summary="The stored photo (JPEG, no metadata), or its thumbnail",
    tag="claims",
    action="read_claims",
    query=ImageQuery,
    content_type="image/jpeg",
)
def receipt_image(business_id: int, receipt_id: int, query: ImageQuery) -> Response:
    data = service.receipt_image(
        business_id, receipt_id, g.user_id, g.membership.role, storage(), query.size == "thumb"
    )
    resp = Response(data, mimetype="image/jpeg")
    # Content-addressed and never changed, but private to the business's members.
    resp.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return resp
