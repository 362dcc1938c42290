"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) for log leaves and block headers.

A leaf's hash must not depend on who serialized it, so everything we hash is encoded by
JCS: sorted keys, no whitespace, fixed string escapes and ES6 number formatting.

Money is integer fen, and a float in a ledger event is a bug (0.1 + 0.2), so
``canonical_json`` refuses floats unless ``allow_floats=True`` (what the generic RFC 8785
test vectors need). Integers must stay within ±(2⁵³ - 1), the I-JSON range.
"""

from __future__ import annotations

from typing import Any

import rfc8785

from chain.errors import MalformedError


def canonical_json(obj: Any, *, allow_floats: bool = False) -> bytes:
    """Return the RFC 8785 canonical UTF-8 encoding of a JSON-compatible value."""
    if not allow_floats:
        _reject_floats(obj, "$")
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as e:
        raise MalformedError(f"value cannot be canonicalized: {e}") from e


def _reject_floats(obj: Any, path: str) -> None:
    if isinstance(obj, float):
        raise MalformedError(f"float at {path}: use integers (for money, fen)")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _reject_floats(v, f"{path}.{k}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            _reject_floats(v, f"{path}[{i}]")
