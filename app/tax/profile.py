"""A business's tax profile (filing basis, CIT payer, burden benchmark) and invoice references."""

from __future__ import annotations

import re
from typing import Any

from peewee import IntegrityError

from app.clock import iso_utc, utcnow
from app.db import write_transaction
from app.errors import Conflict, NotFound, Unprocessable
from app.models import Business, Entry
from app.models.tax import FILING_BASES, EntryInvoice, TaxProfile
from app.money import format_fen
from app.tax.books import load_profile

# 发票代码 (10 or 12 digits) + 发票号码 (8 digits), or a 数电票 number (20 digits): china-facts §7.
_LEGACY_CODE = re.compile(r"[0-9]{10}|[0-9]{12}")
_LEGACY_NUMBER = re.compile(r"[0-9]{8}")
_DIGITAL_NUMBER = re.compile(r"[0-9]{20}")


def profile_dict(business_id: int) -> dict[str, Any]:
    b = Business.get_by_id(business_id)
    row = TaxProfile.get_or_none(TaxProfile.business == business_id)
    p = load_profile(b, row, lookup=False)
    return {
        "taxpayer_type": p.taxpayer_type,
        "vat_filing_basis": p.vat_filing_basis,
        "cit_payer": p.cit_payer,
        "industry": p.industry,
        "vat_burden_benchmark": (
            f"{p.vat_burden_benchmark_bp // 100}.{p.vat_burden_benchmark_bp % 100:02d}%"
            if p.vat_burden_benchmark_bp is not None
            else None
        ),
        "is_default": row is None,
        "updated_at": iso_utc(row.updated_at) if row else None,
    }


def update_profile(
    business_id: int,
    vat_filing_basis: str | None,
    cit_payer: bool | None,
    benchmark_bp: int | None,
    clear_benchmark: bool = False,
) -> dict[str, Any]:
    if vat_filing_basis is not None and vat_filing_basis not in FILING_BASES:
        raise Unprocessable("vat_filing_basis: monthly or quarterly", code="invalid_filing_basis")
    with write_transaction():
        b = Business.get_by_id(business_id)
        row = TaxProfile.get_or_none(TaxProfile.business == business_id)
        current = load_profile(b, row, lookup=False)
        values = {
            "vat_filing_basis": vat_filing_basis or current.vat_filing_basis,
            "cit_payer": current.cit_payer if cit_payer is None else cit_payer,
            "vat_burden_benchmark_bp": None
            if clear_benchmark
            else (benchmark_bp if benchmark_bp is not None else current.vat_burden_benchmark_bp),
            "updated_at": utcnow(),
        }
        if row is None:
            TaxProfile.create(business=business_id, **values)
        else:
            TaxProfile.update(**values).where(TaxProfile.id == row.id).execute()
    return profile_dict(business_id)


def invoice_key(code: str | None, number: str) -> str:
    """The de-duplication key: the 20-digit number, or 发票代码-发票号码 (china-facts §6, §7)."""
    number = number.strip()
    code = (code or "").strip()
    if not code and _DIGITAL_NUMBER.fullmatch(number):
        return number
    if _LEGACY_CODE.fullmatch(code) and _LEGACY_NUMBER.fullmatch(number):
        return f"{code}-{number}"
    raise Unprocessable(
        "invoice: a 20-digit 数电票 number without a code, or a 10/12-digit 发票代码 with an "
        "8-digit 发票号码",
        code="invalid_invoice_number",
    )


def attach_invoice(
    business_id: int, entry_id: int, code: str | None, number: str, amount: int | None, user_id: int
) -> dict[str, Any]:
    key = invoice_key(code, number)
    with write_transaction():
        entry = Entry.get_or_none((Entry.id == entry_id) & (Entry.business == business_id))
        if entry is None:
            raise NotFound("Entry not found", code="entry_not_found")
        try:
            with write_transaction():
                row = EntryInvoice.create(
                    business=business_id,
                    entry=entry_id,
                    invoice_key=key,
                    amount=amount,
                    created_by=user_id,
                )
        except IntegrityError:
            raise Conflict(
                "This invoice is already attached to this entry", code="invoice_already_attached"
            ) from None
        others = [
            e
            for (e,) in EntryInvoice.select(EntryInvoice.entry)
            .where((EntryInvoice.business == business_id) & (EntryInvoice.invoice_key == key))
            .tuples()
            if e != entry_id
        ]
    return {
        "id": row.id,
        "entry_id": entry_id,
        "invoice": key,
        "amount": format_fen(amount) if amount is not None else None,
        # Said at once, not only by tomorrow's warning: this invoice is already on other entries.
        "also_on_entries": sorted(others),
    }
