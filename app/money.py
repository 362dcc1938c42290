"""Money is integer fen. These are the only conversions to and from the API's decimal strings."""

from __future__ import annotations

import re

from app.errors import Unprocessable

# Up to 999,999,999,999.99 yuan: far beyond any small business, well inside a 64-bit integer.
MAX_FEN = 99_999_999_999_999
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?")


def parse_amount(text: object, field: str = "amount", allow_zero: bool = False) -> int:
    """'12.30' -> 1230. Refuses floats, signs, exponents, more than two decimals and huge values.

    A float would already have lost the exact value, so only strings are accepted.
    """
    if not isinstance(text, str) or not _AMOUNT.fullmatch(text):
        raise Unprocessable(
            f'{field}: expected a decimal string with at most 2 decimals, like "12.30"',
            code="invalid_amount",
            details={"field": field, "value": text if isinstance(text, str) else repr(text)},
        )
    whole, _, frac = text.partition(".")
    fen = int(whole) * 100 + int((frac + "00")[:2])
    if fen > MAX_FEN:
        raise Unprocessable(
            f"{field}: amount too large", code="invalid_amount", details={"field": field}
        )
    if fen == 0 and not allow_zero:
        raise Unprocessable(
            f"{field}: amount must be greater than zero",
            code="invalid_amount",
            details={"field": field},
        )
    return fen


def format_fen(fen: int) -> str:
    """1230 -> '12.30'; negative balances keep their sign: -5 -> '-0.05'."""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"
