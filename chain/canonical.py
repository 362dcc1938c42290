"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) for log leaves and block headers.

A leaf's hash must not depend on who serialized it, so everything we hash is encoded by
JCS: sorted keys, no whitespace, fixed string escapes and ES6 number formatting.

Money is integer fen, and a float in a ledger event is a bug (0.1 + 0.2), so
``canonical_json`` refuses floats unless ``allow_floats=True`` (what the generic RFC 8785
test vectors need). Integers must stay within ±(2⁵³ - 1), the I-JSON range.

Speed: the ``rfc8785`` package is pure Python (~85 µs for a ledger entry), too slow for a
verifier that re-derives 100,000 leaves a second. Without floats, and with ASCII object
keys, JCS and the stdlib encoder agree byte for byte (json.dumps with sorted keys, compact
separators and ensure_ascii=False): integers print the same, both escape exactly ``"``,
``\\`` and U+0000–U+001F with the same short forms and lowercase ``\\u00xx``, and sorting
ASCII keys by code point equals JCS's sort by UTF-16 code units. Anything else (floats,
non-ASCII keys) goes through ``rfc8785``. tests/chain/test_chain_canonical.py checks the
two paths against each other.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from chain.errors import MalformedError

MAX_SAFE_INTEGER = 2**53 - 1  # I-JSON (RFC 7493 §2.2); rfc8785 enforces the same range

_encode = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode


def canonical_json(obj: Any, *, allow_floats: bool = False) -> bytes:
    """Return the RFC 8785 canonical UTF-8 encoding of a JSON-compatible value."""
    if not allow_floats:
        if _stdlib_safe(obj):
            try:
                return _encode(obj).encode("utf-8")
            except UnicodeEncodeError as e:  # a lone surrogate
                raise MalformedError(f"value cannot be canonicalized: {e}") from e
        _reject_floats(obj, "$")  # raises, naming the path, if the value holds a float
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as e:
        raise MalformedError(f"value cannot be canonicalized: {e}") from e


def _stdlib_safe(obj: Any) -> bool:
    """Whether the stdlib encoder gives exactly the JCS bytes for ``obj`` (no floats, no
    big integers, ASCII keys, plain types). Strings, the common case, cost no call."""
    t = type(obj)
    if t is str or t is bool or obj is None:
        return True
    if t is int:
        return -MAX_SAFE_INTEGER <= obj <= MAX_SAFE_INTEGER
    if t is dict:
        for k, v in obj.items():
            if type(k) is not str or not k.isascii():
                return False
            if type(v) is not str and not _stdlib_safe(v):
                return False
        return True
    if t is list or t is tuple:
        for v in obj:  # noqa: SIM110 - a loop is faster than all() over a generator
            if type(v) is not str and not _stdlib_safe(v):
                return False
        return True
    return False


def _reject_floats(obj: Any, path: str) -> None:
    if isinstance(obj, float):
        raise MalformedError(f"float at {path}: use integers (for money, fen)")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _reject_floats(v, f"{path}.{k}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            _reject_floats(v, f"{path}[{i}]")
