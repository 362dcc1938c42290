"""RFC 8785 (JCS) canonical JSON against the cyberphone vectors and ES6 number lines."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from chain.canonical import canonical_json
from chain.errors import MalformedError


def test_input_output_pairs(conformance: Path) -> None:
    jcs = conformance / "jcs-rfc8785"
    names = sorted(p.name for p in (jcs / "input").glob("*.json"))
    assert len(names) == 6
    for name in names:
        got = canonical_json(
            json.loads((jcs / "input" / name).read_text("utf-8")), allow_floats=True
        )
        assert got == (jcs / "output" / name).read_bytes(), name
        outhex = (jcs / "outhex" / name.replace(".json", ".txt")).read_text().split()
        assert got == bytes(int(b, 16) for b in outhex), name


def test_es6_numbers(conformance: Path) -> None:
    lines = (conformance / "jcs-rfc8785/es6-numbers-first-10000.txt").read_text().splitlines()
    assert len(lines) == 10_000
    for line in lines:
        bits, want = line.split(",")
        value = struct.unpack(">d", int(bits, 16).to_bytes(8, "big"))[0]
        if value != value or value in (float("inf"), float("-inf")):
            continue  # NaN/Infinity are not JSON; upstream's file has none in these lines
        assert canonical_json(value, allow_floats=True).decode() == want, line


def test_floats_refused_by_default() -> None:
    with pytest.raises(MalformedError):
        canonical_json({"amount": 1.5})
    with pytest.raises(MalformedError):
        canonical_json([1, [2, 0.1]])
    assert (
        canonical_json({"b": 1, "a": [True, None, "文"]}) == '{"a":[true,null,"文"],"b":1}'.encode()
    )


def test_out_of_range_integers_refused() -> None:
    with pytest.raises(MalformedError):
        canonical_json(2**53)
    assert canonical_json(2**53 - 1) == b"9007199254740991"
