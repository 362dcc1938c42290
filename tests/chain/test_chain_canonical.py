"""RFC 8785 (JCS) canonical JSON against the cyberphone vectors and ES6 number lines."""

from __future__ import annotations

import json
import random
import struct
from pathlib import Path

import pytest
import rfc8785

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


def _random_text(rng: random.Random) -> str:
    # Control characters, ASCII, CJK, the U+E000–U+FFFF block and astral characters: the
    # ranges where escaping or UTF-16 key order could differ between encoders.
    pools = [(0, 0x20), (0x20, 0x7F), (0x7F, 0xA0), (0x4E00, 0x9FFF), (0xE000, 0xFFFF)]
    pools.append((0x10000, 0x10FFFF))
    out = []
    for _ in range(rng.randrange(0, 8)):
        lo, hi = rng.choice(pools)
        out.append(chr(rng.randrange(lo, hi)))
    return "".join(out)


def _random_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 2**53 - 1, -(2**53 - 1), rng.randrange(-(10**12), 10**12)])
    if kind in (2, 3):
        return _random_text(rng)
    if kind == 4:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    ascii_keys = rng.random() < 0.7
    return {
        (
            "".join(rng.choice('abcXYZ_09 \t"\\') for _ in range(rng.randrange(1, 5)))
            if ascii_keys
            else _random_text(rng)
        ): _random_value(rng, depth + 1)
        for _ in range(rng.randrange(5))
    }


def test_fast_path_agrees_with_rfc8785() -> None:
    """The stdlib fast path must give rfc8785's bytes for every float-free value."""
    rng = random.Random(8785)
    for _ in range(3000):
        value = _random_value(rng)
        assert canonical_json(value) == rfc8785.dumps(value), value


def test_fast_path_refuses_what_rfc8785_refuses() -> None:
    for bad in ({"n": 2**53}, [-(2**53)], {"s": "\ud800"}, {"f": [1.5]}):
        with pytest.raises(MalformedError):
            canonical_json(bad)


def test_float_free_vectors_take_the_same_bytes(conformance: Path) -> None:
    jcs = conformance / "jcs-rfc8785"
    checked = 0
    for path in sorted((jcs / "input").glob("*.json")):
        value = json.loads(path.read_text("utf-8"))
        if "float at" in repr(_float_paths(value)):
            continue
        assert canonical_json(value) == (jcs / "output" / path.name).read_bytes(), path.name
        checked += 1
    assert checked >= 1


def _float_paths(value: object) -> str:
    try:
        canonical_json(value)
    except MalformedError as e:
        return str(e)
    return ""
