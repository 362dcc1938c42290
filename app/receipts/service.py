"""Receipt uploads: store the cleaned photo, read its fapiao, refuse an invoice claimed twice.

Flask-free like every service: the view hands in the bytes, the storage and the limits.

Duplicates (issue §4): the same invoice — kind-independent key 发票代码-发票号码, or the 20-digit
数电票 number (the key entry_invoice uses, docs/tax-rules.md) — may be on only one live receipt
per business: a second upload gets 409 naming the earlier claim and who filed it. Receipts of a
rejected claim no longer count (the employee may file the invoice again). The check and the
insert run under the business's write lock, so two simultaneous uploads cannot both pass. The
same photo (same SHA-256 of the upload or of the cleaned image) is not refused, only flagged.
"""

from __future__ import annotations

import hashlib
from typing import Any

from peewee import JOIN

from app import fapiao
from app.clock import iso_utc
from app.db import fetchone, is_postgres, write_transaction
from app.errors import Conflict, NotFound
from app.events import LedgerEvent, emit
from app.models import Claim, Receipt, User
from app.money import format_fen
from app.receipts.image import Limits, process
from app.storage import BlobStorage


def lock_business(business_id: int) -> None:
    """Serialise writers of one business: the row lock on PostgreSQL (the posting function's own
    lock); SQLite's BEGIN IMMEDIATE already holds the write lock."""
    if is_postgres():
        fetchone('SELECT "id" FROM "business" WHERE "id" = ? FOR UPDATE', business_id)


def user_name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    u = User.get_or_none(User.id == user_id)
    return (u.display_name or u.username or f"#{user_id}") if u else f"#{user_id}"


def receipt_dict(r: Receipt, duplicates: list[int] | None = None) -> dict[str, Any]:
    base = f"/api/v1/businesses/{r.business_id}/receipts/{r.id}"
    parsed = None
    if r.qr_raw and r.invoice_key:
        try:
            parsed = fapiao.parse(r.qr_raw).as_dict()
        except fapiao.NotAFapiao:
            parsed = None
    return {
        "id": r.id,
        "claim_id": r.claim_id,
        "uploaded_by": r.uploaded_by_id,
        "sha256": r.sha256,
        "original_sha256": r.original_sha256,
        "width": r.width,
        "height": r.height,
        "size": r.size,
        "source_format": r.source_format,
        "qr_found": r.qr_raw is not None,
        "qr_raw": r.qr_raw,
        "fapiao": parsed,
        "invoice_key": r.invoice_key,
        "amount": format_fen(r.amount) if r.amount is not None else None,
        "amount_basis": r.amount_basis,
        "invoice_date": r.invoice_date.isoformat() if r.invoice_date else None,
        "seller": r.seller,
        "buyer_tax_id": r.buyer_tax_id,
        "image_url": f"{base}/image",
        "thumb_url": f"{base}/image?size=thumb",
        "created_at": iso_utc(r.created_at),
        **({"duplicate_photo_of": duplicates} if duplicates is not None else {}),
    }


def same_photo(business_id: int, r: Receipt) -> list[int]:
    """Earlier receipts of this business with the same photo (either hash)."""
    q = Receipt.select(Receipt.id).where(
        (Receipt.business == business_id)
        & (Receipt.id != r.id)
        & (
            (Receipt.sha256 == r.sha256)
            | (Receipt.original_sha256 == r.original_sha256)
            | (Receipt.sha256 == r.original_sha256)
        )
    )
    return sorted(x.id for x in q)


def live_claim_of(business_id: int, invoice_key: str, exclude: int | None = None) -> Receipt | None:
    """The earlier receipt carrying this invoice, unless its claim was rejected."""
    q = (
        Receipt.select(Receipt)
        .join(Claim, on=(Receipt.claim == Claim.id), join_type=JOIN.LEFT_OUTER)
        .where(
            (Receipt.business == business_id)
            & (Receipt.invoice_key == invoice_key)
            & (Claim.id.is_null() | (Claim.status != "rejected"))
        )
        .order_by(Receipt.id)
    )
    if exclude is not None:
        q = q.where(Receipt.id != exclude)
    return q.first()


def duplicate_invoice_error(earlier: Receipt) -> Conflict:
    claim = Claim.get_or_none(Claim.id == earlier.claim_id) if earlier.claim_id else None
    filer_id = claim.employee_id if claim else earlier.uploaded_by_id
    filer = user_name(filer_id)
    when = iso_utc(claim.submitted_at or claim.created_at) if claim else iso_utc(earlier.created_at)
    where = f"claim #{claim.id}" if claim else f"receipt #{earlier.id} (not yet in a claim)"
    return Conflict(
        f"This invoice ({earlier.invoice_key}) is already claimed: {where}, filed by {filer}",
        code="duplicate_invoice",
        details={
            "invoice_key": earlier.invoice_key,
            "receipt_id": earlier.id,
            "claim_id": claim.id if claim else None,
            "claim_status": claim.status if claim else None,
            "filed_by": {"user_id": filer_id, "name": filer},
            "filed_at": when,
        },
    )


def add_receipt(
    business_id: int, actor_id: int, data: bytes, storage: BlobStorage, limits: Limits
) -> dict[str, Any]:
    """Process and store one photo, then record it (and its chain leaf) in one transaction."""
    done = process(data, limits)
    parsed, raw = fapiao.try_parse(done.qr_texts)
    sha = hashlib.sha256(done.image).hexdigest()
    image_key = storage.put(done.image, ".jpg")
    thumb_key = storage.put(done.thumb, ".jpg")
    with write_transaction():
        lock_business(business_id)
        if parsed is not None:
            earlier = live_claim_of(business_id, parsed.invoice_key)
            if earlier is not None:
                raise duplicate_invoice_error(earlier)
        r = Receipt.create(
            business=business_id,
            uploaded_by=actor_id,
            sha256=sha,
            original_sha256=hashlib.sha256(data).hexdigest(),
            image_key=image_key,
            thumb_key=thumb_key,
            width=done.width,
            height=done.height,
            size=len(done.image),
            source_format=done.source_format,
            qr_raw=raw,
            kind=parsed.kind if parsed else None,
            invoice_code=(parsed.code or None) if parsed else None,
            invoice_number=parsed.number if parsed else None,
            invoice_key=parsed.invoice_key if parsed else None,
            amount=parsed.amount if parsed else None,
            amount_basis=parsed.amount_basis if parsed else "unknown",
            invoice_date=parsed.date if parsed else None,
            check_code=(parsed.check_code or None) if parsed else None,
        )
        dups = same_photo(business_id, r)
        emit(
            LedgerEvent(
                "receipt.added",
                business_id,
                actor_id,
                {
                    "receipt": r.id,
                    "sha256": r.sha256,
                    "original_sha256": r.original_sha256,
                    "size": r.size,
                    "fapiao": parsed.as_dict() if parsed else None,
                    "qr_raw": raw,
                },
            )
        )
    return receipt_dict(r, dups)


def get_receipt(business_id: int, receipt_id: int, user_id: int, role: str) -> Receipt:
    """A receipt of this business; employees see only their own (others: 404)."""
    r = Receipt.get_or_none((Receipt.id == receipt_id) & (Receipt.business == business_id))
    if r is None or (role == "employee" and r.uploaded_by_id != user_id):
        raise NotFound("Receipt not found", code="receipt_not_found")
    return r


def receipt_image(
    business_id: int, receipt_id: int, user_id: int, role: str, storage: BlobStorage, thumb: bool
) -> bytes:
    r = get_receipt(business_id, receipt_id, user_id, role)
    try:
        return storage.get(r.thumb_key if thumb else r.image_key)
    except KeyError:
        raise NotFound("The stored image is missing", code="image_missing") from None
