"""`flask chain verify`: rebuild every log from the ledger rows and check it end to end.

What is checked, per business, and why each check catches a different attack:

* leaves: indexes are dense from 0 (a deleted leaf leaves a gap); every entry leaf is
  re-derived from the entry, line and account rows and must equal the stored leaf text
  byte for byte (a changed amount); other leaves must be canonical JSON agreeing with their
  row (type, business, sequence, time, actor), so two swapped leaves show up as sequence
  numbers out of place; every posted entry has exactly one leaf (an entry inserted or a log
  rolled back behind the API); memberships, closed months and sub-accounts replayed from
  their leaves must equal the tables (a forged grant); so must rule contracts, their
  versions and runs, payments, bills and receivables (chain_verify_contracts: a contract
  switched on, a document swapped, a payment marked paid behind the API).
* the tree: all stored hashes are recomputed from the leaf texts (RFC 9162) and compared
  with chain_hash, because proofs are served from there.
* blocks: the header chain (heights, prev_hash, contiguous leaf ranges) and each
  checkpoint's Ed25519 signature (chain.blocks.verify_chain); each signed root must equal
  the root recomputed from the leaves, and each checkpoint must be consistent with the one
  before (an RFC 9162 consistency proof, checked against the two signed roots).
* ``external``: a checkpoint kept outside the database must be signed, must not be larger
  than the log (rolled back) and must state the log's recomputed root at its size (forked).

Speed. Leaves are read in batches of BATCH with plain SQL (no model objects): each leaf
with its entry row in one query, the lines of those entries in a second. An entry leaf is
settled by comparing its stored text with the canonical text written directly from those
rows (entry_leaf_text); only when the two differ is the leaf parsed and compared field by
field (entry_content, first_difference), which names the field. The tree is built with a
stack in one pass from the leaf hashes, and the stored hashes are compared a batch at a
time. A large log (PARALLEL_MIN_LEAVES) whose indexes are dense is read and checked against
the ledger rows by worker processes (worker_pool), batch by batch, in the same batches; all
that depends on order (gaps, duplicate entries, the replays, the tree, the blocks) stays in
this process, so the findings and their order do not depend on the workers.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app

from app.db import db, make_database, sqlite_path
from app.models import ChainBlock
from app.money import format_fen
from app.services.chain import ENTRY_EVENTS, header_of, leaf_dict, origin
from app.services.chain_keys import keyring
from app.services.chain_verify_contracts import ContractsReplay
from chain.blocks import BlockHeader, verify_chain
from chain.canonical import canonical_json
from chain.checkpoint import open_checkpoint
from chain.errors import BrokenChainError, ChainError
from chain.note import Verifier, new_verifier
from chain.proof import check_tree, prove_tree
from chain.tlog import split_stored_hash_index, stored_hash_count, stored_hash_index
from config import BASE_DIR

log = logging.getLogger("suanpan.chain_verify")

BATCH = 5000
MAX_PROBLEMS = 20
DERIVED_LAST = {"total"}  # computed from other fields: report those first
LEAF_KEYS = {"type", "business", "sequence", "time", "actor", "content"}


@dataclass(frozen=True)
class Problem:
    """One finding, located as precisely as the check allows."""

    business_id: int
    message: str
    leaf: int | None = None
    entry_id: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = [f"business {self.business_id}"]
        if self.leaf is not None:
            where.append(f"leaf {self.leaf}")
        if self.entry_id is not None:
            where.append(f"entry {self.entry_id}")
        if self.field is not None:
            where.append(f"field {self.field}")
        return ", ".join(where) + ": " + self.message


@dataclass
class Report:
    business_id: int
    leaves: int = 0
    blocks: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Enough(Exception):
    """Stop early: MAX_PROBLEMS findings are plenty to act on."""


# --- the tree, rebuilt in one pass ----------------------------------------------------------


class TreeBuilder:
    """Appends leaves and keeps every stored hash (chain.tlog order) in one bytearray.

    A stack of complete subtree hashes: leaf n's hash is pushed, then merged with its left
    neighbours once per trailing 1 bit of n, which emits hashes in exactly the stored order.
    """

    def __init__(self) -> None:
        self.hashes = bytearray()
        self.stack: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> None:
        sha = hashlib.sha256
        h = sha(b"\x00" + data).digest()
        out = self.hashes
        out += h
        stack = self.stack
        n = self.size
        while n & 1:
            h = sha(b"\x01" + stack.pop() + h).digest()
            out += h
            n >>= 1
        stack.append(h)
        self.size += 1

    def add_many(self, texts: Iterable[bytes]) -> None:
        """add() for a batch, with the lookups hoisted out of the loop (verify's hot path)."""
        sha = hashlib.sha256
        out, stack, n = self.hashes, self.stack, self.size
        push, pop = stack.append, stack.pop
        for data in texts:
            h = sha(b"\x00" + data).digest()
            out += h
            m = n
            while m & 1:
                h = sha(b"\x01" + pop() + h).digest()
                out += h
                m >>= 1
            push(h)
            n += 1
        self.size = n

    def add_leaf_hashes(self, hashes: bytes) -> None:
        """add_many() for leaves whose RFC 9162 leaf hashes (32 bytes each) are known."""
        sha = hashlib.sha256
        out, stack, n = self.hashes, self.stack, self.size
        push, pop = stack.append, stack.pop
        for at in range(0, len(hashes), 32):
            h = hashes[at : at + 32]
            out += h
            m = n
            while m & 1:
                h = sha(b"\x01" + pop() + h).digest()
                out += h
                m >>= 1
            push(h)
            n += 1
        self.size = n

    def root(self) -> bytes:
        """MTH of all leaves added so far (RFC 9162 §2.1.1)."""
        if not self.stack:
            return hashlib.sha256(b"").digest()
        h = self.stack[-1]
        for left in reversed(self.stack[:-1]):
            h = hashlib.sha256(b"\x01" + left + h).digest()
        return h

    def leaf_hash(self, index: int) -> bytes:
        """The RFC 9162 leaf hash of leaf ``index`` (already added)."""
        at = 32 * stored_hash_index(0, index)
        return bytes(self.hashes[at : at + 32])

    def read_hashes(self, indexes: Iterable[int]) -> list[bytes]:
        """HashReader over the recomputed hashes (for proofs between checkpoints)."""
        return [bytes(self.hashes[32 * i : 32 * i + 32]) for i in indexes]


# --- reading rows without model objects -----------------------------------------------------


def _iso(value: Any) -> str | None:
    """Timestamp as iso_utc renders it (SQLite gives text, PostgreSQL datetimes)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    return f"{value[:10]}T{value[11:19]}Z"


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else value


def _sql(query: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    return db.execute_sql(query.replace("?", db.obj.param), tuple(params)).fetchall()


def _fen(fen: int) -> str:
    """app.money.format_fen for the non-negative amounts of entry lines, inlined for speed."""
    if fen < 0:
        return format_fen(fen)
    yuan, cents = divmod(fen, 100)
    return f"{yuan}.{cents:02d}"


def _in(ids: list[int]) -> str:
    return "(" + ",".join("?" * len(ids)) + ")"


ENTRY_COLUMNS = (
    "business_id, number, date, memo, status, source, category_key, paid_with, "
    "reverses_id, created_by_id, created_at, posted_by_id, posted_at"
)
ENTRY_COLS_E = ", ".join("e." + c for c in ENTRY_COLUMNS.split(", "))
LINE_COLUMNS = "l.line_no, a.code, a.name, l.debit, l.credit, l.memo"


def derive_entries(business_id: int, ids: list[int]) -> dict[int, tuple[str, int | None, dict]]:
    """Entry leaf contents rebuilt from rows: {entry id: (event type, actor, content)}.

    Mirrors app.services.entries.entry_dict as the posting function emits it (a test pins
    the two together); a reversal's event also names the reversed entry.
    """
    if not ids:
        return {}
    lines: dict[int, list[tuple[Any, ...]]] = {i: [] for i in ids}
    for entry_id, *line in _sql(
        f"SELECT l.entry_id, {LINE_COLUMNS} "
        "FROM entry_line l JOIN account a ON a.id = l.account_id "
        f"WHERE l.entry_id IN {_in(ids)} ORDER BY l.entry_id, l.line_no",
        ids,
    ):
        lines[entry_id].append(tuple(line))
    out: dict[int, tuple[str, int | None, dict]] = {}
    for eid, *row in _sql(f"SELECT id, {ENTRY_COLUMNS} FROM entry WHERE id IN {_in(ids)}", ids):
        if row[0] != business_id:
            continue  # treated as missing: the leaf names an entry of another business
        out[eid] = entry_content(eid, row, lines[eid])
    return out


def entry_content(
    eid: int, row: list[Any] | tuple[Any, ...], lines: Iterable[tuple[Any, ...]]
) -> tuple[str, int | None, dict]:
    """(event type, actor, content) of one entry from its ENTRY_COLUMNS row and LINE_COLUMNS
    rows (in line order)."""
    (_bid, number, day, memo, status, source, cat, paid, rev, cby, cat_at, pby, pat) = row
    total = 0
    out_lines = []
    for line_no, code, name, debit, credit, line_memo in lines:
        total += debit
        out_lines.append(
            {
                "line_no": line_no,
                "account": code,
                "account_name": name,
                "debit": _fen(debit),
                "credit": _fen(credit),
                "memo": line_memo,
            }
        )
    entry = {
        "id": eid,
        "number": number,
        "date": _day(day),
        "memo": memo,
        "status": status,
        "source": source,
        "category": cat,
        "paid_with": paid,
        "total": format_fen(total),
        "lines": out_lines,
        "reverses": rev,
        "reversed_by": None,
        "created_by": cby,
        "created_at": _iso(cat_at),
        "posted_by": pby,
        "posted_at": _iso(pat),
    }
    content: dict[str, Any] = {"entry": entry}
    if rev:
        content["reverses"] = rev
    return ("entry.reversed" if rev else "entry.posted"), pby, content


_str = json.encoder.encode_basestring  # the JSON string the stdlib (and so JCS) writes


class Accounts(dict[int, tuple[str, str, str]]):
    """account id -> (code, name, the line's '"account":..,"account_name":..' JSON), read
    as lines need them; an id with no account row stays absent (its line is dropped, as an
    inner join drops it)."""

    def __init__(self) -> None:
        super().__init__()
        self.amounts: dict[int, str] = {}  # fen -> "yuan.cents", for entry_leaf_text

    def need(self, ids: Iterable[int]) -> None:
        missing = list({i for i in ids if i not in self})
        for chunk in (missing[i : i + BATCH] for i in range(0, len(missing), BATCH)):
            for aid, code, name in _sql(
                f"SELECT id, code, name FROM account WHERE id IN {_in(chunk)}", chunk
            ):
                try:
                    fragment = f'"account":{_str(code)},"account_name":{_str(name)}'
                except TypeError:
                    fragment = ""  # an odd value: entry_leaf_text raises, the slow path spells it
                self[aid] = (code, name, fragment)

    def rows(self, lines: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """(line_no, account_id, debit, credit, memo) rows as LINE_COLUMNS rows."""
        out = []
        for line_no, aid, debit, credit, memo in lines:
            if aid in self:
                code, name, _ = self[aid]
                out.append((line_no, code, name, debit, credit, memo))
        return out


def _amount(fen: int, cache: dict[int, str]) -> str:
    """_fen(fen) for an int fen >= 0, remembered (amounts repeat); else ValueError."""
    if type(fen) is not int or fen < 0:
        raise ValueError("the slow path spells this one")
    text = cache[fen] = f"{fen // 100}.{fen % 100:02d}"
    if len(cache) > 100_000:
        cache.clear()
    return text


def entry_leaf_text(
    bid: int, row: tuple[Any, ...], lines: Iterable[tuple[Any, ...]], accounts: Accounts
) -> str:
    """The canonical text of the entry leaf that ``row`` (a LEAF_QUERY row) should hold:
    canonical_json(leaf_dict(kind, bid, idx, time, actor, content)) for the (kind, actor,
    content) of entry_content(entry_id, row[6:], accounts.rows(lines)), written directly.

    A fast path only: integers are written with the "d" format and strings by the stdlib's
    JSON string encoder, so a value of an unexpected type (a float, a text id, a negative
    amount, a NULL time) raises TypeError or ValueError and the caller compares the slow way.
    tests/test_chain_verify_fast.py checks it against canonical_json.
    """
    (
        idx,
        _,
        time,
        _,
        eid,
        _,
        _,
        number,
        day,
        memo,
        status,
        source,
        cat,
        paid,
        rev,
        cby,
        cat_at,
        pby,
        pat,
    ) = row
    amounts = accounts.amounts
    total = 0
    parts = []
    for line_no, aid, debit, credit, line_memo in lines:
        account = accounts.get(aid)
        if account is None:
            continue  # no such account: the join drops the line
        if type(debit) is not int or (debit_text := amounts.get(debit)) is None:
            debit_text = _amount(debit, amounts)
        if type(credit) is not int or (credit_text := amounts.get(credit)) is None:
            credit_text = _amount(credit, amounts)
        if not account[2]:
            raise ValueError("the slow path spells this one")
        total += debit
        parts.append(
            f'{{{account[2]},"credit":"{credit_text}","debit":"{debit_text}",'
            f'"line_no":{line_no:d},"memo":{_str(line_memo)}}}'
        )
    if type(cat_at) is str and type(pat) is str and type(time) is str and type(day) is str:
        cat_at = f"{cat_at[:10]}T{cat_at[11:19]}Z"  # _iso, inlined for SQLite's text
        pat = f"{pat[:10]}T{pat[11:19]}Z"
        time = f"{time[:10]}T{time[11:19]}Z"
    else:
        if cat_at is None or pat is None or day is None or time is None:
            raise ValueError("the slow path spells this one")
        cat_at, pat, time, day = _iso(cat_at), _iso(pat), _iso(time), _day(day)
    rev_text = "null" if rev is None else format(rev, "d")
    pby_text = "null" if pby is None else format(pby, "d")
    entry = (
        f'{{"category":{"null" if cat is None else _str(cat)},"created_at":{_str(cat_at)},'
        f'"created_by":{"null" if cby is None else format(cby, "d")},"date":{_str(day)},'
        f'"id":{eid:d},"lines":[{",".join(parts)}],"memo":{_str(memo)},"number":{number:d},'
        f'"paid_with":{"null" if paid is None else _str(paid)},"posted_at":{_str(pat)},'
        f'"posted_by":{pby_text},"reversed_by":null,"reverses":{rev_text},'
        f'"source":{_str(source)},"status":{_str(status)},'
        f'"total":"{amounts.get(total) or _amount(total, amounts)}"}}'
    )
    if rev:
        content, kind = f'{{"entry":{entry},"reverses":{rev_text}}}', "entry.reversed"
    else:
        content, kind = f'{{"entry":{entry}}}', "entry.posted"
    return (
        f'{{"actor":{pby_text},"business":{bid:d},"content":{content},'
        f'"sequence":{idx:d},"time":{_str(time)},"type":"{kind}"}}'
    )


def first_difference(want: Any, got: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """The first (path, ledger value, leaf value) where two JSON values differ."""
    if isinstance(want, dict) and isinstance(got, dict):
        keys = [*want, *(k for k in got if k not in want)]  # the leaf's own field order
        keys.sort(key=lambda k: k in DERIVED_LAST)  # name the line, not the total it makes
        for k in keys:
            sub = f"{path}.{k}" if path else k
            if k not in want or k not in got:
                return sub, want.get(k, "<absent>"), got.get(k, "<absent>")
            found = first_difference(want[k], got[k], sub)
            if found:
                return found
        return None
    if isinstance(want, list) and isinstance(got, list):
        for i, (a, b) in enumerate(zip(want, got, strict=False)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        if len(want) != len(got):
            return f"{path}.length", len(want), len(got)
        return None
    if want != got or type(want) is not type(got):
        return path or "$", want, got
    return None


# --- state replays --------------------------------------------------------------------------


@dataclass
class _Replay:
    """Membership, closed months and sub-accounts as the log tells them."""

    members: dict[int, tuple[str, int]] = field(default_factory=dict)  # user -> (role, leaf)
    closed: dict[str, int] = field(default_factory=dict)  # month -> leaf
    accounts: dict[str, tuple[dict, int]] = field(default_factory=dict)  # code -> (content, leaf)

    def apply(self, kind: str, c: dict[str, Any], idx: int) -> str | None:
        """Apply one event; return what is wrong with it, if anything."""
        try:
            if kind == "membership.granted":
                if c["user_id"] in self.members:
                    return f"grants user {c['user_id']} who is already a member"
                self.members[c["user_id"]] = (c["role"], idx)
            elif kind == "membership.changed":
                role = self.members.get(c["user_id"], (None,))[0]
                if role != c["from"]:
                    return f"changes user {c['user_id']} from {c['from']}, but the log says {role}"
                self.members[c["user_id"]] = (c["role"], idx)
            elif kind == "membership.revoked":
                if c["user_id"] not in self.members:
                    return f"revokes user {c['user_id']} who is not a member"
                del self.members[c["user_id"]]
            elif kind == "period.closed":
                if c["month"] in self.closed:
                    return f"closes {c['month']}, already closed"
                self.closed[c["month"]] = idx
            elif kind == "period.reopened":
                if self.closed.pop(c["month"], None) is None:
                    return f"reopens {c['month']}, which is not closed"
            elif kind == "account.created":
                if c["code"] in self.accounts:
                    return f"creates account {c['code']} twice"
                self.accounts[c["code"]] = (c, idx)
        except (KeyError, TypeError) as e:
            return f"content lacks {e}"
        return None


# --- the check ------------------------------------------------------------------------------


def verify_business(
    business_id: int,
    verifiers: list[Verifier],
    *,
    external: str | None = None,
    progress: Callable[[int], None] | None = None,
    pool: Executor | None = None,
) -> Report:
    """Check one business's log against its ledger rows, its blocks and ``external``.

    With ``pool`` (see worker_pool), a large log's leaves are read and checked against the
    ledger rows in its worker processes; the rest runs here, in leaf order, either way.
    """
    report = Report(business_id)
    with contextlib.suppress(_Enough):
        _verify(report, verifiers, external, progress or (lambda _n: None), pool)
    return report


def _verify(
    report: Report,
    verifiers: list[Verifier],
    external: str | None,
    progress: Callable[[int], None],
    pool: Executor | None,
) -> None:
    bid = report.business_id

    def problem(message: str, **where: Any) -> None:
        report.problems.append(Problem(bid, message, **where))
        if len(report.problems) >= MAX_PROBLEMS:
            raise _Enough

    blocks = list(
        ChainBlock.select().where(ChainBlock.business_id == bid).order_by(ChainBlock.height)
    )
    report.blocks = len(blocks)
    ext_cp = None
    if external is not None:
        try:
            ext_cp, _ = open_checkpoint(external, verifiers, origin(bid))
        except ChainError as e:
            problem(f"external checkpoint: {e}")
    want_roots = {b.tree_size for b in blocks} | ({ext_cp.size} if ext_cp else set())
    roots: dict[int, bytes] = {}
    tree = TreeBuilder()
    replay = _Replay()
    deals = ContractsReplay()
    seen_entries: dict[int, int] = {}
    sorted_roots = sorted(want_roots)
    if 0 in want_roots:
        roots[0] = tree.root()

    expected = 0
    with contextlib.closing(_scans(bid, pool)) as scans:
        for scan in scans:
            for pos, idx in enumerate(scan.idxs):
                if idx != expected:
                    problem(
                        f"leaf {expected} is missing (the log jumps from {expected - 1} to "
                        f"{idx}): a leaf was deleted",
                        leaf=expected,
                    )
                    expected = idx  # carry on from here to find more
                expected += 1
                entry_id = scan.entry_ids[pos]
                if entry_id is not None:
                    if entry_id in seen_entries:
                        problem(
                            f"entry recorded twice (first at leaf {seen_entries[entry_id]})",
                            leaf=idx,
                            entry_id=entry_id,
                        )
                    seen_entries[entry_id] = idx
                if pos in scan.attention:  # the fast path did not settle this leaf
                    _check_leaf(problem, bid, *scan.attention[pos], replay, deals)
            _grow(tree, scan.hashes, sorted_roots, roots)
            _compare_stored_hashes(problem, bid, tree, scan.idxs[0], scan.idxs[-1])
            deals.end_batch(problem, bid, tree.leaf_hash)
            progress(len(scan.idxs))
    report.leaves = tree.size
    _check_ledger_coverage(problem, bid, seen_entries)
    _check_replay(problem, bid, replay)
    deals.finish(problem, bid, seen_entries)
    _check_blocks(problem, bid, blocks, verifiers, tree, roots)
    if ext_cp is not None:
        _check_external(problem, bid, ext_cp, tree, roots, blocks)


def _grow(tree: TreeBuilder, hashes: bytes, sizes: list[int], roots: dict[int, bytes]) -> None:
    """Add a batch of leaf hashes, noting the root at each wanted tree size on the way."""
    start, end = tree.size, tree.size + len(hashes) // 32
    lo = bisect.bisect_right(sizes, start)
    hi = bisect.bisect_right(sizes, end)
    for size in sizes[lo:hi]:
        tree.add_leaf_hashes(hashes[32 * (tree.size - start) : 32 * (size - start)])
        roots[size] = tree.root()
    tree.add_leaf_hashes(hashes[32 * (tree.size - start) :])


# --- reading and checking the leaves: in this process or in worker processes ----------------


@dataclass
class Scan:
    """One batch of leaves as scan() leaves it for the main loop."""

    idxs: list[int]
    entry_ids: list[int | None]
    hashes: bytes  # their RFC 9162 leaf hashes, 32 bytes each
    # position -> (row, lines) for each leaf the fast path did not settle: every non-entry
    # leaf (lines None), and each entry leaf whose text is not the one built from its rows
    # (lines as LINE_COLUMNS rows; None when its entry is not in this business's ledger).
    attention: dict[int, tuple[tuple[Any, ...], list[tuple[Any, ...]] | None]]


UNBOUNDED = 2**62


def scan(bid: int, after: int, until: int, limit: int, accounts: Accounts) -> Scan:
    """Leaves after ``after`` up to ``until`` (at most ``limit``): fetch them with their
    ledger rows, hash them, and settle every entry leaf whose stored text is the canonical
    text of its rows. Everything order-dependent is left to the main loop."""
    rows = leaf_rows(bid, after, until, limit)
    out = Scan([], [], b"", {})
    if not rows:
        return out
    lines = lines_by_leaf(bid, rows[0][0], rows[-1][0], accounts)
    sha = hashlib.sha256
    hashes = bytearray()
    idxs, entry_ids, attention = out.idxs, out.entry_ids, out.attention
    no_lines: tuple[tuple[Any, ...], ...] = ()
    for pos, row in enumerate(rows):
        idx, entry_id, text = row[0], row[4], row[5]
        idxs.append(idx)
        entry_ids.append(entry_id)
        hashes += sha(b"\x00" + text.encode("utf-8")).digest()
        if entry_id is None:
            attention[pos] = (row, None)
            continue
        if row[6] != bid:  # no such entry, or another business's
            attention[pos] = (row, None)
            continue
        its_lines = lines.get(idx, no_lines)
        try:
            if entry_leaf_text(bid, row, its_lines, accounts) == text:
                continue  # the stored text is the canonical leaf of the ledger rows
        except (TypeError, ValueError):
            pass  # an odd value in a row: the detailed comparison spells it out
        attention[pos] = (row, accounts.rows(its_lines))
    out.hashes = bytes(hashes)
    return out


def _scans(bid: int, pool: Executor | None) -> Iterator[Scan]:
    """A log's batches of BATCH leaves in order. A large log whose indexes are dense from 0
    is split among ``pool``'s workers, in the batches the loop below would make (so problems
    come in the same order); a log with gaps, a small one, and leaves appended meanwhile are
    read here, each batch after the last leaf seen."""
    last = -1
    if pool is not None:
        count, top = _sql(
            "SELECT COUNT(*), MAX(idx) FROM chain_leaf WHERE business_id = ? AND idx >= 0", (bid,)
        )[0]
        if count >= PARALLEL_MIN_LEAVES and top == count - 1:
            jobs = [(bid, a, min(a + BATCH, top), BATCH) for a in range(-1, top, BATCH)]
            try:
                for found in pool.map(_worker_scan, jobs):
                    if found.idxs:  # empty only if leaves were deleted meanwhile
                        yield found
                        last = found.idxs[-1]
            except BrokenProcessPool as e:  # workers could not start, or died: go on here
                log.warning("chain verify: worker processes failed (%s); reading here", e)
    accounts = Accounts()
    while True:
        found = scan(bid, last, UNBOUNDED, BATCH, accounts)
        if not found.idxs:
            return
        yield found
        last = found.idxs[-1]


PARALLEL_MIN_LEAVES = 100_000  # below this, starting the workers (~0.4 s) costs more than it saves
_worker_accounts: dict[int, Accounts] = {}


def worker_pool(workers: int | None = None) -> Executor | None:
    """Worker processes for verify_business, or None when there is no point: one worker, or
    an in-memory SQLite database that other processes cannot open.

    Workers are spawned (not forked: this process may hold connections and threads), and
    open their own connection to the app's DATABASE_URL, which reaches them as an argument.
    """
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    url = current_app.config["DATABASE_URL"]
    if workers < 2:
        return None
    if url.startswith("sqlite:"):
        path = sqlite_path(url, BASE_DIR)
        if path == ":memory:" or path.startswith("file:"):
            return None
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(url, str(BASE_DIR)),
    )


def _worker_init(url: str, base_dir: str) -> None:
    db.initialize(make_database(url, Path(base_dir), pool_size=1))
    db.connect()


def _worker_scan(job: tuple[int, int, int, int]) -> Scan:
    bid, after, until, limit = job
    accounts = _worker_accounts.setdefault(bid, Accounts())
    if len(_worker_accounts) > 1:  # a new business: forget the last one's accounts
        for other in [b for b in _worker_accounts if b != bid]:
            del _worker_accounts[other]
    return scan(bid, after, until, limit, accounts)


def _check_leaf(
    problem: Callable[..., None],
    bid: int,
    row: tuple[Any, ...],
    lines: list[tuple[Any, ...]] | None,
    replay: _Replay,
    deals: ContractsReplay,
) -> None:
    """The checks for a leaf that scan() did not settle."""
    idx, kind, time, actor, entry_id, text = row[:6]
    if entry_id is None:
        data = text.encode("utf-8")
        _check_other_leaf(problem, bid, idx, kind, _iso(time), actor, data, replay, deals)
    elif lines is None:
        problem(
            "the leaf records an entry that is not in this business's ledger",
            leaf=idx,
            entry_id=entry_id,
        )
    else:
        derived = entry_content(entry_id, row[6:], lines)
        _check_entry_leaf(problem, bid, idx, _iso(time) or "", entry_id, text, derived)


def _check_entry_leaf(
    problem: Callable[..., None],
    bid: int,
    idx: int,
    time: str | None,
    entry_id: int,
    data: str,
    derived: tuple[str, int | None, dict],
) -> None:
    """The detailed comparison, for a leaf whose text is not the one built from its rows."""
    kind, actor, content = derived
    want = leaf_dict(kind, bid, idx, time or "", actor, content)
    # Compare values, so that the message names the field. Equal values in other bytes are
    # no problem here: the tree is rebuilt from the stored bytes and the signed roots cover
    # them (a type confusion such as 1 vs true is caught there).
    try:
        got = json.loads(data)
    except ValueError:
        problem("the leaf text is not JSON", leaf=idx, entry_id=entry_id)
        return
    if got == want:
        return
    diff = first_difference(want, got)
    if diff is None:  # same values, different bytes
        problem("the leaf text is not canonical JSON", leaf=idx, entry_id=entry_id)
        return
    path, ledger, leaf = diff
    problem(
        f"differs: the ledger rows give {ledger!r}, the leaf says {leaf!r}",
        leaf=idx,
        entry_id=entry_id,
        field=path,
    )


def leaf_rows(bid: int, after: int, until: int, limit: int) -> list[tuple[Any, ...]]:
    """Leaves after index ``after`` up to ``until`` (at most ``limit``), each as (idx, type,
    time, actor_id, entry_id, data, *ENTRY_COLUMNS of its entry, all NULL for none)."""
    return _sql(
        f"SELECT c.idx, c.type, c.time, c.actor_id, c.entry_id, c.data, {ENTRY_COLS_E} "
        "FROM chain_leaf c LEFT JOIN entry e ON e.id = c.entry_id "
        "WHERE c.business_id = ? AND c.idx > ? AND c.idx <= ? ORDER BY c.idx LIMIT ?",
        (bid, after, until, limit),
    )


def lines_by_leaf(
    bid: int, first: int, last: int, accounts: Accounts
) -> dict[int, list[tuple[Any, ...]]]:
    """(line_no, account_id, debit, credit, memo) rows of the entries of leaves [first,
    last], by leaf, in line order; ``accounts`` learns the accounts they name."""
    out: dict[int, list[tuple[Any, ...]]] = {}
    aids = set()
    for idx, *line in _sql(
        "SELECT c.idx, l.line_no, l.account_id, l.debit, l.credit, l.memo FROM chain_leaf c "
        "JOIN entry_line l ON l.entry_id = c.entry_id "
        "WHERE c.business_id = ? AND c.idx >= ? AND c.idx <= ? ORDER BY c.idx, l.line_no",
        (bid, first, last),
    ):
        aids.add(line[1])
        found = out.get(idx)
        if found is None:
            out[idx] = [tuple(line)]
        else:
            found.append(tuple(line))
    accounts.need(aids)
    return out


def _check_other_leaf(
    problem: Callable[..., None],
    bid: int,
    idx: int,
    kind: str,
    time: str | None,
    actor: int | None,
    data: bytes,
    replay: _Replay,
    deals: ContractsReplay,
) -> None:
    try:
        leaf = json.loads(data)
    except ValueError:
        problem("the leaf text is not JSON", leaf=idx)
        return
    if not isinstance(leaf, dict) or set(leaf) != LEAF_KEYS:
        problem(f"the leaf is not an event object with keys {sorted(LEAF_KEYS)}", leaf=idx)
        return
    row = {"type": kind, "business": bid, "sequence": idx, "time": time, "actor": actor}
    for key, value in row.items():
        if leaf[key] != value:
            extra = " (leaves swapped or moved?)" if key == "sequence" else ""
            problem(
                f"the leaf says {leaf[key]!r}, its row says {value!r}{extra}", leaf=idx, field=key
            )
            return
    if leaf["type"] in ENTRY_EVENTS:
        problem("an entry event without an entry id", leaf=idx)
        return
    try:
        if canonical_json(leaf) != data:
            problem("the leaf text is not canonical JSON", leaf=idx)
    except ChainError as e:
        problem(f"the leaf cannot be canonicalized: {e}", leaf=idx)
    content = leaf["content"]
    if not isinstance(content, dict):
        problem(f"{kind} content not an object", leaf=idx)
        return
    wrong = replay.apply(kind, content, idx)
    if wrong:
        problem(f"{kind} {wrong}", leaf=idx)
    else:
        deals.apply(problem, kind, content, idx, actor)


def _compare_stored_hashes(
    problem: Callable[..., None], bid: int, tree: TreeBuilder, first_leaf: int, last_leaf: int
) -> None:
    """Compare chain_hash rows with the recomputed ones for leaves [first_leaf, last_leaf]."""
    lo = stored_hash_index(0, first_leaf)
    hi = stored_hash_count(last_leaf + 1)
    # Fast path: all hi - lo rows are there (idx is the key) and equal the recomputed ones.
    stored = _sql(
        "SELECT hash FROM chain_hash WHERE business_id = ? AND idx >= ? AND idx < ? ORDER BY idx",
        (bid, lo, hi),
    )
    if len(stored) == hi - lo and b"".join(h for (h,) in stored) == tree.hashes[32 * lo : 32 * hi]:
        return
    expected_idx = lo
    for idx, h in _sql(
        "SELECT idx, hash FROM chain_hash WHERE business_id = ? AND idx >= ? AND idx < ? "
        "ORDER BY idx",
        (bid, lo, hi),
    ):
        if idx != expected_idx:
            break
        if bytes(h) != bytes(tree.hashes[32 * idx : 32 * idx + 32]):
            problem(
                _hash_where(idx, "differs from the one recomputed from the leaves"),
                leaf=split_stored_hash_index(idx)[1] << split_stored_hash_index(idx)[0],
            )
        expected_idx += 1
    if expected_idx < hi:
        problem(
            _hash_where(expected_idx, "is missing from chain_hash"),
            leaf=split_stored_hash_index(expected_idx)[1]
            << split_stored_hash_index(expected_idx)[0],
        )


def _hash_where(idx: int, what: str) -> str:
    level, n = split_stored_hash_index(idx)
    if level == 0:
        return f"the stored leaf hash (stored hash {idx}) {what}"
    lo, hi = n << level, (n + 1) << level
    return f"stored hash {idx} (level {level}, leaves [{lo}, {hi})) {what}"


def _check_ledger_coverage(problem: Callable[..., None], bid: int, seen: dict[int, int]) -> None:
    for (eid,) in _sql(
        "SELECT id FROM entry WHERE business_id = ? AND status = 'posted' ORDER BY id", (bid,)
    ):
        if eid not in seen:
            problem(
                "is posted in the ledger but has no leaf in the log "
                "(written behind the API, or the log was rolled back)",
                entry_id=eid,
            )


def _check_replay(problem: Callable[..., None], bid: int, replay: _Replay) -> None:
    members = dict(_sql("SELECT user_id, role FROM membership WHERE business_id = ?", (bid,)))
    for user, (role, idx) in sorted(replay.members.items()):
        if members.get(user) != role:
            problem(
                f"the log makes user {user} a {role}, the membership table says "
                f"{members.get(user) or 'not a member'}",
                leaf=idx,
            )
    for user in sorted(set(members) - set(replay.members)):
        problem(f"user {user} is a member ({members[user]}) with no grant in the log")
    closed = {m for (m,) in _sql("SELECT month FROM closed_period WHERE business_id = ?", (bid,))}
    for month, idx in sorted(replay.closed.items()):
        if month not in closed:
            problem(f"the log closes {month}, the ledger has it open", leaf=idx)
    for month in sorted(closed - set(replay.closed)):
        problem(f"{month} is closed in the ledger with no period.closed leaf")
    accounts = {
        code: (name, parent, kind)
        for code, name, parent, kind in _sql(
            "SELECT code, name, parent_code, type FROM account "
            "WHERE business_id = ? AND is_standard = ?",
            (bid, False),
        )
    }
    for code, (c, idx) in sorted(replay.accounts.items()):
        want = accounts.get(code)
        if want is None or want != (c.get("name"), c.get("parent"), c.get("type")):
            problem(f"account {code} in the log differs from the account table: {want}", leaf=idx)
    for code in sorted(set(accounts) - set(replay.accounts)):
        problem(f"sub-account {code} exists with no account.created leaf")


def _check_blocks(
    problem: Callable[..., None],
    bid: int,
    blocks: list[ChainBlock],
    verifiers: list[Verifier],
    tree: TreeBuilder,
    roots: dict[int, bytes],
) -> None:
    prev: BlockHeader | None = None
    prev_root: bytes | None = None
    for block in blocks:
        header = header_of(block)
        try:
            verify_chain([header], verifiers, prev)
            cp, _ = open_checkpoint(header.checkpoint, verifiers, origin(bid))
        except BrokenChainError as e:
            problem(str(e))  # "block <height>: <reason>"
            return
        except ChainError as e:
            problem(f"block {block.height}: checkpoint: {e}")
            return
        if bytes(block.block_hash) != header.block_hash():
            problem(f"block {block.height}: stored block_hash is not the header's hash")
        if cp.size > tree.size:
            problem(
                f"block {block.height} sealed {cp.size} leaves but the log has only "
                f"{tree.size}: the log was rolled back"
            )
            return
        if roots.get(cp.size) != cp.root:
            problem(
                f"block {block.height}: the signed root of tree size {cp.size} is not the root "
                f"recomputed from leaves [0, {cp.size}): a leaf below {cp.size} was changed"
            )
            return
        if prev is not None and prev_root is not None and prev.tree_size < cp.size:
            try:
                proof = prove_tree(cp.size, prev.tree_size, tree)
                check_tree(proof, cp.size, cp.root, prev.tree_size, prev_root)
            except ChainError as e:
                problem(f"block {block.height}: not consistent with block {prev.height}: {e}")
                return
        prev, prev_root = header, cp.root


def _check_external(
    problem: Callable[..., None],
    bid: int,
    cp: Any,
    tree: TreeBuilder,
    roots: dict[int, bytes],
    blocks: list[ChainBlock],
) -> None:
    if cp.size > tree.size:
        problem(
            f"external checkpoint has tree size {cp.size} but the log has only {tree.size} "
            "leaves: the log was rolled back"
        )
        return
    if roots.get(cp.size) != cp.root:
        problem(
            f"external checkpoint (size {cp.size}, root {base64.b64encode(cp.root).decode()}) "
            "does not match the log's recomputed root at that size: the log was forked or "
            "rewritten"
        )
        return
    if blocks and cp.size >= 1 and blocks[-1].tree_size >= cp.size:
        last = blocks[-1]
        try:
            proof = prove_tree(last.tree_size, cp.size, tree)
            check_tree(proof, last.tree_size, bytes(last.root), cp.size, cp.root)
        except ChainError as e:
            problem(f"the latest block is not consistent with the external checkpoint: {e}")


def business_from_checkpoint(text: str) -> int | None:
    """The business id in a checkpoint's origin ``<prefix>/<id>``, if it parses."""
    first = text.split("\n", 1)[0]
    tail = first.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def all_business_ids() -> list[int]:
    return [bid for (bid,) in _sql("SELECT id FROM business ORDER BY id")]


def leaf_count(business_id: int | None = None) -> int:
    if business_id is None:
        return _sql("SELECT COUNT(*) FROM chain_leaf")[0][0]
    return _sql("SELECT COUNT(*) FROM chain_leaf WHERE business_id = ?", (business_id,))[0][0]


def run_verify(
    business_id: int | None,
    external: str | None = None,
    vkey: str | None = None,
    *,
    progress_bar: bool = False,
    workers: int | None = None,
) -> list[Report]:
    """Verify one business (or all), with a click progress bar over the leaves if asked.

    With ``external`` and no business, the business is taken from the checkpoint's origin.
    ``workers``: processes that read and check the leaves of large logs (default: the CPU
    count, at most 4; 1 for none).
    """
    verifiers = [new_verifier(vkey) if vkey else keyring.verifier()]
    if business_id is None and external is not None:
        business_id = business_from_checkpoint(external)
    ids = [business_id] if business_id is not None else all_business_ids()
    reports = []
    total = leaf_count(business_id)
    pool = worker_pool(workers) if total >= PARALLEL_MIN_LEAVES else None
    with (
        pool or contextlib.nullcontext(),
        click.progressbar(
            length=total, label="verifying", file=None if progress_bar else _Null(), show_pos=True
        ) as bar,
    ):
        for bid in ids:
            reports.append(
                verify_business(
                    bid,
                    verifiers,
                    external=external if len(ids) == 1 else None,
                    progress=bar.update,
                    pool=pool,
                )
            )
    return reports


class _Null:
    """A sink for the progress bar when it is switched off."""

    def write(self, _s: str) -> int:
        return 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False
