"""A small, bounded JsonLogic evaluator (jsonlogic.com), written here because no maintained
PyPI package passes the published suite with JsonLogic's own truthiness.

Why our own: `json-logic-qubit` 0.9.1 (2018) does not even import without `six`, and the other
packages on PyPI are forks or placeholders. The semantics follow json-logic-js, which the
suite (`../shared/conformance/jsonlogic/tests.json`) was written for:

- truthiness is JsonLogic's (jsonlogic.com/truthy): `[]`, `0`, `""`, `null` and `false` are
  falsy; `"0"` and `[0]` are truthy;
- `==` is JavaScript's loose equality (`1 == "1"`), `===` the strict one;
- arithmetic converts like JavaScript's `parseFloat`/`Number`, but keeps Python integers
  exact where JavaScript would too (integers below 2**53), so amounts in fen stay integers.

Safety: contracts are data, never code. Only the operations in `STANDARD_OPS` plus the
caller's read-only `extra_ops` (the documented book views) exist; `method` (which calls a
host-language method in json-logic-js) and `log` (a side effect) are not offered. Evaluation
is bounded without any clock: a nesting depth limit, a step budget (every operation and every
array element costs a step), and a cap on the length of strings and arrays it builds. The
same rule over the same data therefore always ends the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

MAX_DEPTH = 64
MAX_STEPS = 20_000
MAX_SIZE = 10_000  # longest string or array the evaluator will build


class JsonLogicError(ValueError):
    """A rule that cannot be evaluated: unknown operation, bad arguments, or over a bound."""


class _Missing:
    """Stand-in for JavaScript's `undefined` while reading `var` paths."""


MISSING = _Missing()


# --- JavaScript-like conversions -----------------------------------------------------------


def truthy(value: Any) -> bool:
    """JsonLogic truthiness: empty array falsy, "0" truthy, 0 / "" / null falsy."""
    if value is None or value is MISSING:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    if isinstance(value, list):
        return len(value) > 0
    return True  # objects


def _parse_number(text: str) -> int | float:
    s = text.strip()
    if s == "":
        return 0
    try:
        if s.lstrip("+-").isdigit():
            return int(s)
        f = float(s)
    except ValueError:
        return math.nan
    if s.lower().lstrip("+-") in ("inf", "infinity", "nan"):
        return math.nan if "nan" in s.lower() else f  # JS: "Infinity" yes, "inf"/"nan" no
    return f


def to_number(value: Any) -> int | float:
    """JavaScript's Number(): null -> 0, true -> 1, "" -> 0, "12" -> 12, [] -> 0, [7] -> 7."""
    if value is None:
        return 0
    if value is MISSING:
        return math.nan
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        return _parse_number(value)
    if isinstance(value, list):
        return to_number(to_string(value))
    return math.nan


def _number_text(n: int | float) -> str:
    if isinstance(n, int):
        return str(n)
    if math.isnan(n):
        return "NaN"
    if math.isinf(n):
        return "Infinity" if n > 0 else "-Infinity"
    if n == int(n) and abs(n) < 1e21:
        return str(int(n))
    return repr(n)


def to_string(value: Any) -> str:
    """JavaScript's String(): null -> "null", arrays joined with commas, 1.0 -> "1"."""
    if value is None:
        return "null"
    if value is MISSING:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number_text(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if v is None or v is MISSING else to_string(v) for v in value)
    return "[object Object]"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if value is MISSING:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def strict_equal(a: Any, b: Any) -> bool:
    """JavaScript `===`; arrays and objects are equal only when they are the same object."""
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return False
    if ka == "object":
        return a is b
    return a == b


def loose_equal(a: Any, b: Any) -> bool:
    """JavaScript `==` (ECMA-262 IsLooselyEqual)."""
    ka, kb = _kind(a), _kind(b)
    if ka == kb:
        return strict_equal(a, b)
    nullish = ("null", "undefined")
    if ka in nullish or kb in nullish:
        return ka in nullish and kb in nullish
    if ka == "boolean":
        return loose_equal(int(a), b)
    if kb == "boolean":
        return loose_equal(a, int(b))
    if ka == "number" and kb == "string":
        return a == to_number(b)
    if ka == "string" and kb == "number":
        return to_number(a) == b
    if ka == "object":
        return loose_equal(to_string(a), b)
    if kb == "object":
        return loose_equal(a, to_string(b))
    return False


def _less(a: Any, b: Any) -> bool:
    """JavaScript `<`: two strings compare as strings, anything else as numbers."""
    if isinstance(a, list):
        a = to_string(a)
    if isinstance(b, list):
        b = to_string(b)
    if isinstance(a, str) and isinstance(b, str):
        return a < b
    x, y = to_number(a), to_number(b)
    return x < y  # NaN compares false, as in JavaScript


def _less_equal(a: Any, b: Any) -> bool:
    if isinstance(a, list):
        a = to_string(a)
    if isinstance(b, list):
        b = to_string(b)
    if isinstance(a, str) and isinstance(b, str):
        return a <= b
    return to_number(a) <= to_number(b)


def _normal(n: int | float) -> int | float:
    """Keep exact integers as int (amounts in fen); 4.0 -> 4 so results compare as JSON does."""
    if isinstance(n, float) and n.is_integer() and abs(n) < 2**53:
        return int(n)
    return n


# --- the evaluator ---------------------------------------------------------------------------


def is_logic(value: Any) -> bool:
    """A rule is an object with exactly one key (the operation)."""
    return isinstance(value, dict) and len(value) == 1


class Evaluator:
    """One evaluation: holds the step budget. Use `apply()` rather than this class directly."""

    def __init__(
        self,
        extra_ops: Mapping[str, Callable[..., Any]] | None = None,
        max_steps: int = MAX_STEPS,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self.extra_ops = dict(extra_ops or {})
        self.steps_left = max_steps
        self.max_depth = max_depth

    def _tick(self, n: int = 1) -> None:
        self.steps_left -= n
        if self.steps_left < 0:
            raise JsonLogicError("rule too expensive: step budget exhausted", "too_expensive")

    def _sized(self, value: Any) -> Any:
        if isinstance(value, (str, list)) and len(value) > MAX_SIZE:
            raise JsonLogicError(f"rule builds a value longer than {MAX_SIZE}", "too_large")
        return value

    def run(self, logic: Any, data: Any, depth: int = 0) -> Any:
        if depth > self.max_depth:
            raise JsonLogicError(f"rule nested deeper than {self.max_depth}", "too_deep")
        self._tick()
        if isinstance(logic, list):
            return [self.run(item, data, depth + 1) for item in logic]
        if not is_logic(logic):
            return logic
        ((op, values),) = logic.items()
        if not isinstance(values, list):
            values = [values]
        lazy = _LAZY.get(op)
        if lazy is not None:
            return lazy(self, values, data, depth + 1)
        if op in self.extra_ops:
            args = [self.run(v, data, depth + 1) for v in values]
            return self.extra_ops[op](*args)
        fn = _EAGER.get(op)
        if fn is None:
            raise JsonLogicError(f"Unrecognized operation {op}", "unknown_operation")
        args = [self.run(v, data, depth + 1) for v in values]
        return self._sized(fn(self, data, *args))


def apply(
    logic: Any,
    data: Any = None,
    extra_ops: Mapping[str, Callable[..., Any]] | None = None,
    max_steps: int = MAX_STEPS,
) -> Any:
    """Evaluate `logic` over `data`. Raises JsonLogicError; never runs code outside the ops."""
    result = Evaluator(extra_ops, max_steps).run(logic, data)
    return None if result is MISSING else result


# Lazy operations see their arguments unevaluated (short-circuit, scoped iteration).


def _op_if(ev: Evaluator, values: list[Any], data: Any, depth: int) -> Any:
    i = 0
    while i < len(values) - 1:
        if truthy(ev.run(values[i], data, depth)):
            return ev.run(values[i + 1], data, depth)
        i += 2
    if len(values) == i + 1:
        return ev.run(values[i], data, depth)
    return None


def _op_and(ev: Evaluator, values: list[Any], data: Any, depth: int) -> Any:
    current: Any = None
    for v in values:
        current = ev.run(v, data, depth)
        if not truthy(current):
            return current
    return current


def _op_or(ev: Evaluator, values: list[Any], data: Any, depth: int) -> Any:
    current: Any = None
    for v in values:
        current = ev.run(v, data, depth)
        if truthy(current):
            return current
    return current


def _scoped_list(ev: Evaluator, values: list[Any], data: Any, depth: int) -> list[Any]:
    items = ev.run(values[0], data, depth) if values else None
    if not isinstance(items, list):
        return []
    ev._tick(len(items))
    return items


def _op_map(ev: Evaluator, values: list[Any], data: Any, depth: int) -> Any:
    items = _scoped_list(ev, values, data, depth)
    body = values[1] if len(values) > 1 else None
    return [ev.run(body, item, depth) for item in items]


def _op_filter(ev: Evaluator, values: list[Any], data: Any, depth: int) -> Any:
    items = _scoped_list(ev, values, data, depth)
    body = values[1] if len(values) > 1 else None
    return [item for item in items if truthy(ev.run(body, item, depth))]


def _op_reduce(ev: Evaluator, values: list[Any], data: Any, depth: int) -> Any:
    items = _scoped_list(ev, values, data, depth)
    body = values[1] if len(values) > 1 else None
    acc = ev.run(values[2], data, depth) if len(values) > 2 else None
    for item in items:
        acc = ev.run(body, {"current": item, "accumulator": acc}, depth)
    return acc


def _op_all(ev: Evaluator, values: list[Any], data: Any, depth: int) -> Any:
    items = _scoped_list(ev, values, data, depth)
    if not items:
        return False
    body = values[1] if len(values) > 1 else None
    return all(truthy(ev.run(body, item, depth)) for item in items)


def _op_some(ev: Evaluator, values: list[Any], data: Any, depth: int) -> Any:
    items = _scoped_list(ev, values, data, depth)
    body = values[1] if len(values) > 1 else None
    return any(truthy(ev.run(body, item, depth)) for item in items)


def _op_none(ev: Evaluator, values: list[Any], data: Any, depth: int) -> Any:
    return not _op_some(ev, values, data, depth)


_LAZY: dict[str, Callable[[Evaluator, list[Any], Any, int], Any]] = {
    "if": _op_if,
    "?:": _op_if,
    "and": _op_and,
    "or": _op_or,
    "map": _op_map,
    "filter": _op_filter,
    "reduce": _op_reduce,
    "all": _op_all,
    "some": _op_some,
    "none": _op_none,
}


# Eager operations get evaluated arguments.


def _get_path(data: Any, path: Any) -> Any:
    if path is None or path == "" or (isinstance(path, list) and not path):
        return data
    parts = to_string(path).split(".")
    current = data
    for part in parts:
        if current is None or current is MISSING:
            return MISSING
        if isinstance(current, dict):
            current = current.get(part, MISSING)
        elif isinstance(current, list):
            try:
                index = int(part)
            except ValueError:
                return MISSING
            if not part.isdigit() or index >= len(current):
                return MISSING
            current = current[index]
        elif isinstance(current, str) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current


def _op_var(ev: Evaluator, data: Any, path: Any = None, default: Any = None, *_: Any) -> Any:
    found = _get_path(data, path)
    if found is MISSING:
        return default
    return found


def _op_missing(ev: Evaluator, data: Any, *args: Any) -> Any:
    keys = args[0] if args and isinstance(args[0], list) else list(args)
    ev._tick(len(keys))
    out = []
    for key in keys:
        value = _get_path(data, key)
        if value is MISSING or value is None or value == "":
            out.append(key)
    return out


def _op_missing_some(ev: Evaluator, data: Any, need: Any = 0, keys: Any = None, *_: Any) -> Any:
    keys = keys if isinstance(keys, list) else []
    missing = _op_missing(ev, data, keys)
    if len(keys) - len(missing) >= to_number(need):
        return []
    return missing


def _numbers(args: tuple[Any, ...]) -> list[int | float]:
    return [to_number(a) for a in args]


def _op_plus(ev: Evaluator, data: Any, *args: Any) -> Any:
    total: int | float = 0
    for n in _numbers(args):
        total += n
    return _normal(total)


def _op_times(ev: Evaluator, data: Any, *args: Any) -> Any:
    if not args:
        return None
    total: int | float = 1
    for n in _numbers(args):
        total *= n
    return _normal(total)


def _op_minus(ev: Evaluator, data: Any, *args: Any) -> Any:
    if len(args) == 1:
        return _normal(-to_number(args[0]))
    if len(args) < 2:
        return None
    a, b = to_number(args[0]), to_number(args[1])
    return _normal(a - b)


def _op_divide(ev: Evaluator, data: Any, *args: Any) -> Any:
    if len(args) < 2:
        return None
    a, b = to_number(args[0]), to_number(args[1])
    if b == 0:
        raise JsonLogicError("division by zero", "division_by_zero")
    if isinstance(a, int) and isinstance(b, int) and a % b == 0:
        return a // b
    return _normal(a / b)


def _op_modulo(ev: Evaluator, data: Any, *args: Any) -> Any:
    if len(args) < 2:
        return None
    a, b = to_number(args[0]), to_number(args[1])
    if b == 0:
        raise JsonLogicError("division by zero", "division_by_zero")
    if isinstance(a, int) and isinstance(b, int):
        r = abs(a) % abs(b)
        return -r if a < 0 else r  # JavaScript: the sign of the dividend
    return _normal(math.fmod(a, b))


def _op_max(ev: Evaluator, data: Any, *args: Any) -> Any:
    if not args:
        return None
    return _normal(max(_numbers(args)))


def _op_min(ev: Evaluator, data: Any, *args: Any) -> Any:
    if not args:
        return None
    return _normal(min(_numbers(args)))


def _op_compare(strict: bool) -> Callable[..., Any]:
    def compare(ev: Evaluator, data: Any, *args: Any) -> Any:
        if len(args) == 3:  # between
            a, b, c = args
            return (
                (_less(a, b) and _less(b, c))
                if strict
                else (_less_equal(a, b) and _less_equal(b, c))
            )
        a = args[0] if args else MISSING
        b = args[1] if len(args) > 1 else MISSING
        return _less(a, b) if strict else _less_equal(a, b)

    return compare


def _op_greater(strict: bool) -> Callable[..., Any]:
    def compare(ev: Evaluator, data: Any, *args: Any) -> Any:
        a = args[0] if args else MISSING
        b = args[1] if len(args) > 1 else MISSING
        return _less(b, a) if strict else _less_equal(b, a)

    return compare


def _arg(args: tuple[Any, ...], i: int) -> Any:
    return args[i] if len(args) > i else MISSING


def _op_in(
    ev: Evaluator, data: Any, needle: Any = MISSING, haystack: Any = MISSING, *_: Any
) -> Any:
    if isinstance(haystack, str):
        return to_string(needle) in haystack
    if isinstance(haystack, list):
        ev._tick(len(haystack))
        return any(strict_equal(needle, item) for item in haystack)
    return False


def _op_cat(ev: Evaluator, data: Any, *args: Any) -> Any:
    return "".join(to_string(a) for a in args)


def _op_substr(
    ev: Evaluator, data: Any, text: Any = "", start: Any = 0, length: Any = None, *_: Any
) -> Any:
    s = to_string(text)
    begin = int(to_number(start))
    if begin < 0:
        begin = max(len(s) + begin, 0)
    if length is None or length is MISSING:
        return s[begin:]
    n = int(to_number(length))
    if n < 0:
        return s[begin : max(len(s) + n, begin)]
    return s[begin : begin + n]


def _op_merge(ev: Evaluator, data: Any, *args: Any) -> Any:
    out: list[Any] = []
    for a in args:
        if isinstance(a, list):
            ev._tick(len(a))
            out.extend(a)
        else:
            out.append(a)
    return out


_EAGER: dict[str, Callable[..., Any]] = {
    "var": _op_var,
    "missing": _op_missing,
    "missing_some": _op_missing_some,
    "==": lambda ev, data, *a: loose_equal(_arg(a, 0), _arg(a, 1)),
    "===": lambda ev, data, *a: strict_equal(_arg(a, 0), _arg(a, 1)),
    "!=": lambda ev, data, *a: not loose_equal(_arg(a, 0), _arg(a, 1)),
    "!==": lambda ev, data, *a: not strict_equal(_arg(a, 0), _arg(a, 1)),
    "!": lambda ev, data, *a: not truthy(_arg(a, 0)),
    "!!": lambda ev, data, *a: truthy(_arg(a, 0)),
    ">": _op_greater(True),
    ">=": _op_greater(False),
    "<": _op_compare(True),
    "<=": _op_compare(False),
    "max": _op_max,
    "min": _op_min,
    "+": _op_plus,
    "-": _op_minus,
    "*": _op_times,
    "/": _op_divide,
    "%": _op_modulo,
    "in": _op_in,
    "cat": _op_cat,
    "substr": _op_substr,
    "merge": _op_merge,
}

STANDARD_OPS: frozenset[str] = frozenset(_LAZY) | frozenset(_EAGER)


def operations_used(logic: Any, depth: int = 0) -> set[str]:
    """Every operation name a rule mentions (for validation before it is ever evaluated)."""
    if depth > MAX_DEPTH:
        raise JsonLogicError(f"rule nested deeper than {MAX_DEPTH}", "too_deep")
    found: set[str] = set()
    if isinstance(logic, list):
        for item in logic:
            found |= operations_used(item, depth + 1)
    elif is_logic(logic):
        ((op, values),) = logic.items()
        found.add(op)
        found |= operations_used(values, depth + 1)
    return found
