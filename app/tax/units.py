"""Exact numbers for rules: money in integer fen, ratios as Fractions, never floats.

Thresholds in rule files are decimal strings ("100000.00" yuan, "0.005" for 5‰), parsed here
exactly; a float would already have lost the value a cliff is about.
"""

from __future__ import annotations

import re
from fractions import Fraction

from app.money import format_fen

_MONEY = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?")
_RATIO = re.compile(r"(0|[1-9][0-9]{0,3})(\.[0-9]{1,6})?")

Value = int | Fraction


def money_fen(text: object) -> int:
    """'100000.00' -> 10000000; raises ValueError for anything but a plain decimal string."""
    if not isinstance(text, str) or not _MONEY.fullmatch(text):
        raise ValueError(
            f'expected an amount in yuan as a decimal string like "100000.00", got {text!r}'
        )
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def ratio(text: object) -> Fraction:
    """'0.005' -> Fraction(1, 200); exact."""
    if not isinstance(text, str) or not _RATIO.fullmatch(text):
        raise ValueError(f'expected a ratio as a decimal string like "0.15", got {text!r}')
    return Fraction(text)


def count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number >= 0, got {value!r}")
    return value


PARSERS = {"fen": money_fen, "ratio": ratio, "count": count, "days": count}


def round_half_up(x: Fraction) -> int:
    """Round a non-negative or negative exact amount of fen to whole fen (half away from zero)."""
    sign = -1 if x < 0 else 1
    x = abs(x)
    return sign * int((x * 2 + 1) // 2)


def percent(x: Fraction | int, places: int = 2) -> str:
    """Fraction(1, 3) -> '33.33%' (exact half-up rounding)."""
    scaled = round_half_up(Fraction(x) * 100 * 10**places)
    sign = "-" if scaled < 0 else ""
    scaled = abs(scaled)
    whole, frac = divmod(scaled, 10**places)
    return f"{sign}{whole}.{frac:0{places}d}%"


def show(value: Value, unit: str) -> str:
    """How a value appears in figures and messages."""
    if unit == "fen":
        return format_fen(int(value))
    if unit == "ratio":
        return percent(Fraction(value))
    return str(value)


def fen_times(amount: int, rate: Fraction) -> int:
    """amount x rate, rounded to the fen."""
    return round_half_up(Fraction(amount) * rate)
