"""统一社会信用代码 (Unified Social Credit Code), GB 32100-2015.

Structure and check character per china-facts §7.3. A malformed code is refused outright; a code
whose check character does not match is reported separately, because early pilot codes exist
whose check character is wrong, and the owner may confirm one.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, ...
_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{9}[0-9A-HJ-NPQRTUWXY]")


def normalize(code: str) -> str:
    return code.strip().upper().replace(" ", "")


def is_well_formed(code: str) -> bool:
    return bool(_SHAPE.fullmatch(code))


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def check_ok(code: str) -> bool:
    return is_well_formed(code) and check_character(code[:17]) == code[17]
