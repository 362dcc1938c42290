"""Fapiao QR payloads: parse the comma-separated layout printed on every Chinese invoice.

Layout (../shared/domain/china-facts.md §7.1):
`版本号, 发票种类代码, 发票代码, 发票号码, 金额, 开票日期(YYYYMMDD), 校验码, 随机码/CRC`, 7 to 9
fields, empty and trailing fields allowed. Legacy invoices carry a 10/12-digit 发票代码 and an
8-digit 发票号码; 数电票 (31/32/...) carry no 发票代码 and a 20-digit number (§7.2).

The amount is kept exactly as printed (integer fen) together with what it is believed to mean:
on legacy invoices it is the amount excluding tax (derived from the public samples); on 数电票 one
public parser says it includes tax and others do not say (a disagreement, §7.1), so it is marked
unconfirmed. Nothing here touches the database: it is a pure function of the QR text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from app.money import MAX_FEN, format_fen

# Type code -> (Chinese, English). china-facts §7.1.
KINDS: dict[str, tuple[str, str]] = {
    "01": ("增值税专用发票", "Special VAT invoice"),
    "02": ("货物运输业增值税专用发票", "Freight special VAT invoice"),
    "03": ("机动车销售统一发票", "Motor-vehicle sales invoice"),
    "04": ("增值税普通发票", "Ordinary VAT invoice (paper)"),
    "08": ("增值税电子专用发票", "Electronic special VAT invoice"),
    "10": ("增值税电子普通发票", "Electronic ordinary VAT invoice"),
    "11": ("增值税普通发票(卷式)", "Ordinary VAT invoice (roll)"),
    "14": ("增值税电子普通发票(通行费)", "Toll electronic invoice"),
    "15": ("二手车销售统一发票", "Used-car sales invoice"),
    "31": ("电子发票(增值税专用发票)", "Digital special VAT invoice (数电票)"),
    "32": ("电子发票(普通发票)", "Digital ordinary invoice (数电票)"),
    "33": ("电子发票(机动车销售统一发票)", "Digital motor-vehicle invoice"),
    "34": ("电子发票(二手车销售统一发票)", "Digital used-car invoice"),
    "51": ("电子发票(铁路电子客票)", "Rail e-ticket"),
    "61": ("电子发票(航空运输电子客票行程单)", "Air e-itinerary"),
}
# Special VAT invoices: the buyer may deduct their input VAT (general taxpayers only).
SPECIAL_KINDS = frozenset({"01", "08", "31"})
DIGITAL_KINDS = frozenset({"31", "32", "33", "34", "51", "61"})

_LEGACY_CODE = re.compile(r"[0-9]{10}|[0-9]{12}")
_LEGACY_NUMBER = re.compile(r"[0-9]{8}")
_DIGITAL_NUMBER = re.compile(r"[0-9]{20}")
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?")

# What the QR amount means, by kind. Values: excl_tax | incl_tax_unconfirmed | unknown.
AMOUNT_BASIS_TEXT = {
    "excl_tax": ("不含税金额", "amount excluding tax"),
    "incl_tax_unconfirmed": ("价税合计(未确认)", "amount including tax (unconfirmed)"),
    "unknown": ("金额含义不明", "unknown whether tax is included"),
}


class NotAFapiao(ValueError):
    """The text is not a fapiao QR payload; the message says which field is wrong."""


@dataclass(frozen=True)
class FapiaoQr:
    raw: str
    version: str
    kind: str
    code: str  # '' on 数电票
    number: str
    amount: int  # fen, exactly as printed
    date: dt.date
    check_code: str
    crc: str

    @property
    def digital(self) -> bool:
        return len(self.number) == 20

    @property
    def special(self) -> bool:
        return self.kind in SPECIAL_KINDS

    @property
    def invoice_key(self) -> str:
        """The de-duplication key, the same as app/tax/profile.invoice_key: the 20-digit number,
        or 发票代码-发票号码 (docs/tax-rules.md, entry_invoice)."""
        return self.number if self.digital else f"{self.code}-{self.number}"

    @property
    def amount_basis(self) -> str:
        if self.kind in DIGITAL_KINDS:
            return "incl_tax_unconfirmed" if self.kind in ("31", "32") else "unknown"
        return "excl_tax"

    def as_dict(self) -> dict[str, Any]:
        zh, en = KINDS.get(self.kind, ("未知种类", "unknown kind"))
        basis_zh, basis_en = AMOUNT_BASIS_TEXT[self.amount_basis]
        return {
            "version": self.version,
            "kind": self.kind,
            "kind_name": zh,
            "kind_name_en": en,
            "code": self.code or None,
            "number": self.number,
            "invoice_key": self.invoice_key,
            "digital": self.digital,
            "special": self.special,
            "amount": format_fen(self.amount),
            "amount_basis": self.amount_basis,
            "amount_basis_text": basis_zh,
            "amount_basis_text_en": basis_en,
            "date": self.date.isoformat(),
            "check_code": self.check_code or None,
            "crc": self.crc or None,
        }


def parse(text: str) -> FapiaoQr:
    """Parse a fapiao QR payload; raise NotAFapiao (with the reason) for anything else."""
    raw = text.strip()
    fields = [f.strip() for f in raw.split(",")]
    # A trailing comma is common: drop empty fields at the end, then count.
    while len(fields) > 7 and fields[-1] == "":
        fields.pop()
    if not 7 <= len(fields) <= 9:
        raise NotAFapiao(f"expected 7 to 9 comma-separated fields, got {len(fields)}")
    fields += [""] * (9 - len(fields))
    version, kind, code, number, amount, date, check_code, crc = fields[:8]
    if not re.fullmatch(r"[0-9]{2}", version):
        raise NotAFapiao("version: two digits expected")
    if not re.fullmatch(r"[0-9]{2}", kind):
        raise NotAFapiao("kind: two digits expected")
    if _DIGITAL_NUMBER.fullmatch(number):
        # 数电票: no 发票代码, except a paper digital special invoice (31) may carry one.
        if code and not _LEGACY_CODE.fullmatch(code):
            raise NotAFapiao("code: 10 or 12 digits, or empty")
    elif _LEGACY_NUMBER.fullmatch(number):
        if not _LEGACY_CODE.fullmatch(code):
            raise NotAFapiao("code: a legacy invoice needs a 10 or 12 digit 发票代码")
    else:
        raise NotAFapiao("number: 8 digits (legacy) or 20 digits (数电票) expected")
    if not _AMOUNT.fullmatch(amount):
        raise NotAFapiao("amount: a decimal with at most 2 decimals expected")
    whole, _, frac = amount.partition(".")
    fen = int(whole) * 100 + int((frac + "00")[:2])
    if fen > MAX_FEN:
        raise NotAFapiao("amount: too large")
    try:
        if not re.fullmatch(r"[0-9]{8}", date):
            raise ValueError
        issued = dt.date(int(date[:4]), int(date[4:6]), int(date[6:]))
    except ValueError:
        raise NotAFapiao("date: YYYYMMDD expected") from None
    if check_code and not re.fullmatch(r"[0-9]{1,32}", check_code):
        raise NotAFapiao("check code: digits expected")
    if crc and not re.fullmatch(r"[0-9A-Fa-f]{1,8}", crc):
        raise NotAFapiao("crc: hexadecimal expected")
    return FapiaoQr(raw, version, kind, code, number, fen, issued, check_code, crc)


def try_parse(texts: list[str]) -> tuple[FapiaoQr | None, str | None]:
    """The first QR text that is a fapiao, and the first raw text seen (kept even if not one)."""
    for t in texts:
        try:
            return parse(t), t
        except NotAFapiao:
            continue
    return None, texts[0] if texts else None
