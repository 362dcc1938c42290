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

It reads leaves and ledger rows in batches with plain SQL (no model objects), and builds
the tree with a stack in one pass, so it runs at the speed of SHA-256 and json.dumps.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import click

from app.db import db
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


def derive_entries(business_id: int, ids: list[int]) -> dict[int, tuple[str, int | None, dict]]:
    """Entry leaf contents rebuilt from rows: {entry id: (event type, actor, content)}.

    Mirrors app.services.entries.entry_dict as the posting function emits it (a test pins
    the two together); a reversal's event also names the reversed entry.
    """
    if not ids:
        return {}
    lines: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    totals = dict.fromkeys(ids, 0)
    for entry_id, line_no, code, name, debit, credit, memo in _sql(
        "SELECT l.entry_id, l.line_no, a.code, a.name, l.debit, l.credit, l.memo "
        "FROM entry_line l JOIN account a ON a.id = l.account_id "
        f"WHERE l.entry_id IN {_in(ids)} ORDER BY l.entry_id, l.line_no",
        ids,
    ):
        totals[entry_id] += debit
        lines[entry_id].append(
            {
                "line_no": line_no,
                "account": code,
                "account_name": name,
                "debit": _fen(debit),
                "credit": _fen(credit),
                "memo": memo,
            }
        )
    out: dict[int, tuple[str, int | None, dict]] = {}
    for row in _sql(
        "SELECT id, business_id, number, date, memo, status, source, category_key, paid_with, "
        f"reverses_id, created_by_id, created_at, posted_by_id, posted_at FROM entry "
        f"WHERE id IN {_in(ids)}",
        ids,
    ):
        (eid, bid, number, day, memo, status, source, cat, paid, rev, cby, cat_at, pby, pat) = row
        if bid != business_id:
            continue  # treated as missing: the leaf names an entry of another business
        entry = {
            "id": eid,
            "number": number,
            "date": _day(day),
            "memo": memo,
            "status": status,
            "source": source,
            "category": cat,
            "paid_with": paid,
            "total": format_fen(totals[eid]),
            "lines": lines[eid],
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
        out[eid] = ("entry.reversed" if rev else "entry.posted", pby, content)
    return out


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
) -> Report:
    """Check one business's log against its ledger rows, its blocks and ``external``."""
    report = Report(business_id)
    with contextlib.suppress(_Enough):
        _verify(report, verifiers, external, progress or (lambda _n: None))
    return report


def _verify(
    report: Report,
    verifiers: list[Verifier],
    external: str | None,
    progress: Callable[[int], None],
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
    last = -1
    while True:
        batch = list(
            _sql(
                "SELECT idx, type, time, actor_id, entry_id, data FROM chain_leaf "
                "WHERE business_id = ? AND idx > ? ORDER BY idx LIMIT ?",
                (bid, last, BATCH),
            )
        )
        if not batch:
            break
        last = batch[-1][0]
        derived = derive_entries(bid, [r[4] for r in batch if r[4] is not None])
        texts: list[bytes] = []
        for idx, kind, time, actor, entry_id, text in batch:
            if idx != expected:
                problem(
                    f"leaf {expected} is missing (the log jumps from {expected - 1} to {idx}): "
                    "a leaf was deleted",
                    leaf=expected,
                )
                expected = idx  # carry on from here to find more
            data = text.encode("utf-8")
            if entry_id is not None:
                _check_entry_leaf(
                    problem, bid, idx, _iso(time), entry_id, text, derived, seen_entries
                )
            else:
                _check_other_leaf(problem, bid, idx, kind, _iso(time), actor, data, replay, deals)
            texts.append(data)
            expected += 1
        _grow(tree, texts, sorted_roots, roots)
        _compare_stored_hashes(problem, bid, tree, batch[0][0], last)
        deals.end_batch(problem, bid, tree.leaf_hash)
        progress(len(batch))
    report.leaves = tree.size
    _check_ledger_coverage(problem, bid, seen_entries)
    _check_replay(problem, bid, replay)
    deals.finish(problem, bid, seen_entries)
    _check_blocks(problem, bid, blocks, verifiers, tree, roots)
    if ext_cp is not None:
        _check_external(problem, bid, ext_cp, tree, roots, blocks)


def _grow(tree: TreeBuilder, texts: list[bytes], sizes: list[int], roots: dict[int, bytes]) -> None:
    """Add a batch of leaves, noting the root at each wanted tree size on the way."""
    start, end = tree.size, tree.size + len(texts)
    lo = bisect.bisect_right(sizes, start)
    hi = bisect.bisect_right(sizes, end)
    for size in sizes[lo:hi]:
        tree.add_many(texts[tree.size - start : size - start])
        roots[size] = tree.root()
    tree.add_many(texts[tree.size - start :])


def _check_entry_leaf(
    problem: Callable[..., None],
    bid: int,
    idx: int,
    time: str | None,
    entry_id: int,
    data: str,
    derived: dict[int, tuple[str, int | None, dict]],
    seen: dict[int, int],
) -> None:
    if entry_id in seen:
        problem(
            f"entry recorded twice (first at leaf {seen[entry_id]})", leaf=idx, entry_id=entry_id
        )
    seen[entry_id] = idx
    if entry_id not in derived:
        problem(
            "the leaf records an entry that is not in this business's ledger",
            leaf=idx,
            entry_id=entry_id,
        )
        return
    kind, actor, content = derived[entry_id]
    want = leaf_dict(kind, bid, idx, time or "", actor, content)
    # Parsing the stored text and comparing values costs half of re-encoding ``want``. The
    # bytes that count are the stored ones: the tree is rebuilt from them and the signed
    # roots cover them, so comparing values loses nothing; canonical form is checked only
    # when the values differ (a type confusion such as 1 vs true is caught by the tree).
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
) -> list[Report]:
    """Verify one business (or all), with a click progress bar over the leaves if asked.

    With ``external`` and no business, the business is taken from the checkpoint's origin.
    """
    verifiers = [new_verifier(vkey) if vkey else keyring.verifier()]
    if business_id is None and external is not None:
        business_id = business_from_checkpoint(external)
    ids = [business_id] if business_id is not None else all_business_ids()
    reports = []
    total = leaf_count(business_id)
    with click.progressbar(
        length=total, label="verifying", file=None if progress_bar else _Null(), show_pos=True
    ) as bar:
        for bid in ids:
            reports.append(
                verify_business(
                    bid,
                    verifiers,
                    external=external if len(ids) == 1 else None,
                    progress=bar.update,
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
