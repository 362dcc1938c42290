"""The chain service: append a leaf per ledger event, seal blocks, serve proofs and receipts.

Leaves are appended by ``on_ledger_event``, a listener on app.events, so they are written in
the very transaction of the change they record (no change without its leaf, no leaf without
its change). Appending leaf n costs one leaf INSERT, one SELECT of at most log₂ n stored
hashes and one multi-row INSERT of the 1 + log₂ n new ones (chain.tlog); on PostgreSQL the two
INSERTs share a round trip, and after a posting the log's size comes without a query of its own.

Writers of one log are serialised by the same lock the posting function takes
(``SELECT ... FOR UPDATE`` on the business row on PostgreSQL, BEGIN IMMEDIATE on SQLite), so
leaf indexes are dense and commit in order. Sealers are serialised separately (a
transaction-scoped advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) and never block
posting on PostgreSQL; unique indexes on (business, height/first_leaf) are the backstop.
See docs/chain.md.
"""

from __future__ import annotations

import base64
import bisect
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError, fn

from app.chain_store import (
    PeeweeHashReader,
    append_hashes,
    execute,
    next_leaf_index,
    take_leaf_index,
)
from app.clock import iso_utc, utcnow
from app.db import db, holds_lock, is_postgres, mark_locked, write_transaction
from app.errors import Conflict, NotFound, Unavailable, Unprocessable
from app.events import LedgerEvent
from app.models import Business, ChainBlock, ChainLeaf, Entry
from app.services.chain_keys import keyring
from chain.blocks import GENESIS_PREV_HASH, BlockHeader, utc_timestamp
from chain.canonical import canonical_json
from chain.checkpoint import open_checkpoint, sign_checkpoint
from chain.errors import ChainError
from chain.note import Signer
from chain.proof import check_tree, prove_record, prove_tree
from chain.receipt import issue_proof
from chain.tlog import stored_hashes, tree_hash

ENTRY_EVENTS = ("entry.posted", "entry.reversed")
# pg_advisory_xact_lock(int4, int4) key space: (this constant, business id) is "the sealer".
SEAL_LOCK_CLASS = 0x53504E43  # "SPNC"


@dataclass
class ChainSettings:
    """Set by create_app from CHAIN_ORIGIN."""

    origin_prefix: str = "suanpan.local/chain"


settings = ChainSettings()


class ChainIntegrityError(ChainError):
    """The stored log contradicts itself (e.g. it is shorter than its last block): refuse."""


def origin(business_id: int) -> str:
    """The checkpoint origin of a business's log: ``<CHAIN_ORIGIN>/<business id>``."""
    return f"{settings.origin_prefix}/{business_id}"


# --- leaves ---------------------------------------------------------------------------------


def leaf_dict(
    event_type: str,
    business_id: int,
    sequence: int,
    time: str,
    actor: int | None,
    content: dict[str, Any],
) -> dict[str, Any]:
    """The leaf as a JSON object; its RFC 8785 encoding is what the log hashes."""
    return {
        "type": event_type,
        "business": business_id,
        "sequence": sequence,
        "time": time,
        "actor": actor,
        "content": content,
    }


def on_ledger_event(event: LedgerEvent) -> None:
    """app.events listener: record the event as the next leaf of its business's log."""
    append_leaf(event)


def append_leaf(event: LedgerEvent) -> int:
    """Append ``event`` as the next leaf; must run inside the change's transaction."""
    bid = event.business_id
    _lock_log(bid)
    n = take_leaf_index(bid)  # no query when the posting function read it under the lock
    now = utcnow().replace(microsecond=0)
    entry_id = event.content["entry"]["id"] if event.type in ENTRY_EVENTS else None
    data = canonical_json(
        leaf_dict(event.type, bid, n, iso_utc(now) or "", event.actor_id, event.content)
    )
    hashes = stored_hashes(n, data, PeeweeHashReader(bid))
    try:
        leaf = (event.type, now, event.actor_id, entry_id, data.decode("utf-8"))
        append_hashes(bid, n, hashes, leaf=leaf)  # the leaf row, then its hashes
    except IntegrityError:
        # Hashes past the last leaf: the log was cut behind the API. Refuse the change (it
        # rolls back with its transaction) rather than record it in a broken log.
        raise Conflict(
            f"The ledger's log for business {bid} is damaged (leaf {n} exists in part); "
            "nothing can be recorded until `flask chain verify` is clean",
            code="chain_integrity_error",
        ) from None
    return n


def _lock_log(business_id: int) -> None:
    """Serialise appends to one log (the posting function already holds this lock)."""
    if is_postgres():
        if not holds_lock(("business", business_id)):
            execute("SELECT id FROM business WHERE id = ? FOR UPDATE", (business_id,))
            mark_locked(("business", business_id))
    elif not db.obj.in_transaction():
        raise RuntimeError("chain leaves are appended inside the change's transaction")


def log_size(business_id: int) -> int:
    """Number of leaves in a business's log (sealed or not)."""
    return next_leaf_index(business_id)


def get_leaf(business_id: int, index: int) -> ChainLeaf:
    leaf = ChainLeaf.get_or_none((ChainLeaf.business_id == business_id) & (ChainLeaf.idx == index))
    if leaf is None:
        raise NotFound(f"Leaf {index} is not in this log", code="leaf_not_found")
    return leaf


# --- blocks and checkpoints -----------------------------------------------------------------


def latest_block(business_id: int) -> ChainBlock | None:
    return (
        ChainBlock.select()
        .where(ChainBlock.business_id == business_id)
        .order_by(ChainBlock.height.desc())
        .first()
    )


def header_of(block: ChainBlock) -> BlockHeader:
    return BlockHeader(
        height=block.height,
        prev_hash=bytes(block.prev_hash),
        first_leaf=block.first_leaf,
        end_leaf=block.end_leaf,
        tree_size=block.tree_size,
        root=bytes(block.root),
        sealed_at=block.sealed_at,
        checkpoint=block.checkpoint,
    )


def seal(business_id: int, signer: Signer | None = None, *, wait: bool = True) -> ChainBlock | None:
    """Seal the log's unsealed leaves into a new block; None when there is nothing to seal.

    With ``wait=False`` (the scheduler) a sealer that finds another one at work on this log
    skips it; with ``wait=True`` (a request) it waits for it and then seals what is left.
    The new checkpoint is signed only after a consistency proof from the previous block's
    tree to the new one checks out against the previous block's signed root.
    """
    signer = signer or keyring.signer()
    try:
        with write_transaction():
            if not _lock_sealer(business_id, wait):
                return None
            last = latest_block(business_id)
            size = log_size(business_id)
            start = last.end_leaf if last else 0
            if size < start:
                raise ChainIntegrityError(
                    f"business {business_id}: log has {size} leaves but block {last.height} "
                    f"sealed {start}: the log was rolled back; refusing to sign"
                )
            if size == start:
                return None
            reader = PeeweeHashReader(business_id)
            root = tree_hash(size, reader)
            if last is not None:
                _check_extends(last, size, root, reader, signer)
            now = utc_timestamp()
            sealed_at = max(now, last.sealed_at) if last else now
            header = BlockHeader(
                height=last.height + 1 if last else 0,
                prev_hash=header_of(last).block_hash() if last else GENESIS_PREV_HASH,
                first_leaf=start,
                end_leaf=size,
                tree_size=size,
                root=root,
                sealed_at=sealed_at,
                checkpoint=sign_checkpoint(origin(business_id), size, root, signer),
            )
            return ChainBlock.create(
                business_id=business_id,
                height=header.height,
                prev_hash=header.prev_hash,
                first_leaf=header.first_leaf,
                end_leaf=header.end_leaf,
                tree_size=header.tree_size,
                root=header.root,
                sealed_at=header.sealed_at,
                checkpoint=header.checkpoint,
                block_hash=header.block_hash(),
            )
    except IntegrityError:
        return None  # another sealer committed this block first (the unique indexes)


def seal_or_refuse(business_id: int) -> ChainBlock | None:
    """seal() for requests: a log that fails its integrity check is a 409, never a 500."""
    try:
        return seal(business_id, wait=True)
    except ChainIntegrityError as e:
        raise Conflict(
            f"The log cannot be sealed: {e}. Run `flask chain verify`.",
            code="chain_integrity_error",
        ) from None


def _lock_sealer(business_id: int, wait: bool) -> bool:
    """Become this log's only sealer for the transaction; False if busy and not waiting."""
    if not is_postgres():
        return True  # BEGIN IMMEDIATE already excludes every other writer
    fname = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    row = db.execute_sql(f"SELECT {fname}(%s, %s)", (SEAL_LOCK_CLASS, business_id)).fetchone()
    return wait or bool(row[0])


def _check_extends(
    last: ChainBlock, size: int, root: bytes, reader: PeeweeHashReader, signer: Signer
) -> None:
    """Refuse to sign unless tree (size, root) extends the last block's signed tree head."""
    bid = last.business_id
    try:
        cp, _ = open_checkpoint(last.checkpoint, [signer.verifier], origin(bid))
        if (cp.size, cp.root) != (last.tree_size, bytes(last.root)):
            raise ChainIntegrityError("the last block's columns differ from its checkpoint")
        check_tree(prove_tree(size, cp.size, reader), size, root, cp.size, cp.root)
    except ChainError as e:
        raise ChainIntegrityError(
            f"business {bid}: new tree of size {size} is not consistent with block "
            f"{last.height} (size {last.tree_size}): {e}; refusing to sign"
        ) from e


def businesses_to_seal() -> list[int]:
    """Businesses whose log has leaves past their last block (one query, index seeks)."""
    leaves = ChainLeaf.select(fn.MAX(ChainLeaf.idx) + 1).where(ChainLeaf.business_id == Business.id)
    sealed = ChainBlock.select(fn.MAX(ChainBlock.end_leaf)).where(
        ChainBlock.business_id == Business.id
    )
    rows = Business.select(Business.id, leaves.alias("size"), sealed.alias("sealed")).tuples()
    return [bid for bid, size, done in rows if size is not None and size > (done or 0)]


def seal_all(signer: Signer | None = None) -> list[ChainBlock]:
    """The scheduler's job: seal every log with new leaves, skipping busy ones."""
    signer = signer or keyring.signer()
    out = []
    for bid in businesses_to_seal():
        block = seal(bid, signer, wait=False)
        if block is not None:
            out.append(block)
    return out


# --- proofs and receipts --------------------------------------------------------------------


def checkpoint_size(business_id: int) -> int:
    block = latest_block(business_id)
    return block.tree_size if block else 0


def inclusion_proof(business_id: int, index: int, size: int) -> list[bytes]:
    """Audit path for leaf ``index`` in the tree of ``size`` (at most the signed size)."""
    signed = checkpoint_size(business_id)
    if not 0 <= index < size <= signed:
        raise _range_error(f"need 0 ≤ index < size ≤ {signed} (the latest checkpoint's size)")
    return prove_record(size, index, PeeweeHashReader(business_id))


def consistency_proof(business_id: int, old: int, new: int) -> list[bytes]:
    """Consistency proof from tree size ``old`` to ``new`` (at most the signed size)."""
    signed = checkpoint_size(business_id)
    if not 1 <= old <= new <= signed:
        raise _range_error(f"need 1 ≤ from ≤ to ≤ {signed} (the latest checkpoint's size)")
    return prove_tree(new, old, PeeweeHashReader(business_id))


def _range_error(message: str) -> Exception:
    return Unprocessable(message, code="proof_out_of_range")


def entry_leaf(business_id: int, entry_id: int) -> ChainLeaf:
    """The leaf that recorded the posting of an entry."""
    leaf = (
        ChainLeaf.select()
        .where(
            (ChainLeaf.business_id == business_id)
            & (ChainLeaf.entry_id == entry_id)
            & ChainLeaf.type.in_(ENTRY_EVENTS)
        )
        .first()
    )
    if leaf is not None:
        return leaf
    entry = Entry.get_or_none((Entry.id == entry_id) & (Entry.business == business_id))
    if entry is None:
        raise NotFound("Entry not found", code="entry_not_found")
    if entry.status != "posted":
        raise Conflict("Only posted entries have receipts", code="entry_not_posted")
    raise Conflict(f"Entry {entry_id} is posted but not in the log", code="entry_not_in_log")


def receipt(business_id: int, entry_id: int) -> dict[str, str]:
    """The offline receipt: leaf text, C2SP tlog-proof (with its signed checkpoint), vkey.

    Seals on demand when the leaf is newer than the latest block.
    """
    leaf = entry_leaf(business_id, entry_id)
    block = latest_block(business_id)
    if block is None or block.tree_size <= leaf.idx:
        seal_or_refuse(business_id)
        block = latest_block(business_id)
        if block is None or block.tree_size <= leaf.idx:
            raise Unavailable("The log could not be sealed yet; retry", code="chain_not_sealed")
    hashes = prove_record(block.tree_size, leaf.idx, PeeweeHashReader(business_id))
    proof = issue_proof(leaf.data.encode("utf-8"), leaf.idx, hashes, block.checkpoint)
    return {"leaf": leaf.data, "proof": proof, "vkey": keyring.vkey()}


def block_dict(block: ChainBlock, entries: int | None = None) -> dict[str, Any]:
    """A block header for the app's chain view (hashes in standard base64)."""

    def b64(b: bytes) -> str:
        return base64.b64encode(bytes(b)).decode()

    return {
        "height": block.height,
        "hash": b64(block.block_hash),
        "prev_hash": b64(block.prev_hash),
        "first_leaf": block.first_leaf,
        "end_leaf": block.end_leaf,
        "leaves": block.end_leaf - block.first_leaf,
        "entries": entries,
        "tree_size": block.tree_size,
        "root": b64(block.root),
        "sealed_at": block.sealed_at,
        "checkpoint": block.checkpoint,
    }


def list_blocks(business_id: int, before: int | None, limit: int) -> dict[str, Any]:
    """Block headers, newest first; ``before`` continues below a height."""
    query = ChainBlock.select().where(ChainBlock.business_id == business_id)
    if before is not None:
        query = query.where(ChainBlock.height < before)
    blocks = list(query.order_by(ChainBlock.height.desc()).limit(limit + 1))
    more = len(blocks) > limit
    blocks = blocks[:limit]
    counts: dict[int, int] = {}
    if blocks:
        lo, hi = blocks[-1].first_leaf, blocks[0].end_leaf
        rows = (
            ChainLeaf.select(ChainLeaf.idx)
            .where(
                (ChainLeaf.business_id == business_id)
                & (ChainLeaf.idx >= lo)
                & (ChainLeaf.idx < hi)
                & ChainLeaf.entry_id.is_null(False)
            )
            .tuples()
        )
        starts = sorted((b.first_leaf, b.end_leaf, b.height) for b in blocks)
        firsts = [s[0] for s in starts]
        for (idx,) in rows:
            first, end, height = starts[bisect.bisect_right(firsts, idx) - 1]
            if first <= idx < end:
                counts[height] = counts.get(height, 0) + 1
    return {
        "items": [block_dict(b, counts.get(b.height, 0)) for b in blocks],
        "next_before": blocks[-1].height if more else None,
    }


def chain_status(business_id: int) -> dict[str, Any]:
    """The log at a glance: size, what is sealed, the latest block."""
    block = latest_block(business_id)
    return {
        "origin": origin(business_id),
        "size": log_size(business_id),
        "sealed_size": block.tree_size if block else 0,
        "height": block.height if block else None,
        "latest_block": block_dict(block) if block else None,
        "vkey": keyring.vkey(),
    }
