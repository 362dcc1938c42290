"""The chain over HTTP: the node key, a business's checkpoints, leaves, proofs, blocks,
entry receipts. Hashes are standard base64, as in C2SP. Members read their business's log;
the key and checkpoint texts are safe to publish (they reveal no ledger content)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import qrcode
from flask import Response, current_app, request, send_file
from pydantic import Field
from qrcode.exceptions import DataOverflowError

from app.api.routing import route
from app.api.schemas import EmptyBody, Query
from app.errors import NotFound
from app.services import chain
from app.services.chain_keys import keyring
from chain.hashing import leaf_hash

DIGITS = r"^(0|[1-9][0-9]{0,17})$"


class InclusionQuery(Query):
    index: str = Field(pattern=DIGITS)
    size: str = Field(pattern=DIGITS)


class ConsistencyQuery(Query):
    from_: str = Field(alias="from", pattern=DIGITS)
    to: str = Field(pattern=DIGITS)


class BlocksQuery(Query):
    before: str | None = Field(default=None, pattern=DIGITS)
    limit: str | None = Field(default=None, pattern=r"^([1-9][0-9]?|100)$")


class ReceiptQuery(Query):
    format: str | None = Field(default=None, pattern=r"^(json|png)$")


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


@route(
    "/chain/key",
    "GET",
    summary="The node's log verifier key (signed-note vkey)",
    tag="chain",
    auth=False,
)
def chain_key() -> dict[str, Any]:
    """Checkpoints of every business's log are signed by this key; pin it in verifiers."""
    return {"vkey": keyring.vkey()}


@route(
    "/businesses/<int:business_id>/chain",
    "GET",
    summary="The business's log at a glance: size, sealed size, latest block",
    tag="chain",
    action="read_books",
)
def chain_status(business_id: int) -> dict[str, Any]:
    return chain.chain_status(business_id)


@route(
    "/businesses/<int:business_id>/chain/checkpoint",
    "GET",
    summary="The latest signed checkpoint (C2SP tlog-checkpoint, text/plain)",
    tag="chain",
    action="read_books",
    content_type="text/plain",
)
def chain_checkpoint(business_id: int) -> Response:
    """Keep a copy: `flask chain verify --checkpoint FILE` catches a log rolled back or forked."""
    block = chain.latest_block(business_id)
    if block is None:
        raise NotFound("The log has no checkpoint yet", code="no_checkpoint")
    return Response(block.checkpoint, mimetype="text/plain")


@route(
    "/businesses/<int:business_id>/chain/seal",
    "POST",
    summary="Seal new leaves into a block now (on demand)",
    tag="chain",
    body=EmptyBody,
    action="post",
    errors=[409],
)
def chain_seal(business_id: int, body: EmptyBody) -> dict[str, Any]:
    """Returns the new block, or the latest one when there was nothing new to seal."""
    block = chain.seal_or_refuse(business_id)
    latest = block or chain.latest_block(business_id)
    return {"sealed": block is not None, "block": chain.block_dict(latest) if latest else None}


@route(
    "/businesses/<int:business_id>/chain/leaves/<int:index>",
    "GET",
    summary="One leaf: its canonical JSON text and leaf hash",
    tag="chain",
    action="read_books",
)
def chain_leaf(business_id: int, index: int) -> dict[str, Any]:
    leaf = chain.get_leaf(business_id, index)
    return {
        "index": index,
        "leaf": leaf.data,
        "leaf_hash": _b64(leaf_hash(leaf.data.encode("utf-8"))),
    }


@route(
    "/businesses/<int:business_id>/chain/proof/inclusion",
    "GET",
    summary="RFC 9162 inclusion proof of leaf `index` in the tree of `size`",
    tag="chain",
    action="read_books",
    query=InclusionQuery,
)
def chain_inclusion(business_id: int, query: InclusionQuery) -> dict[str, Any]:
    index, size = int(query.index), int(query.size)
    hashes = chain.inclusion_proof(business_id, index, size)
    return {"index": index, "size": size, "hashes": [_b64(h) for h in hashes]}


@route(
    "/businesses/<int:business_id>/chain/proof/consistency",
    "GET",
    summary="RFC 9162 consistency proof from tree size `from` to `to`",
    tag="chain",
    action="read_books",
    query=ConsistencyQuery,
)
def chain_consistency(business_id: int, query: ConsistencyQuery) -> dict[str, Any]:
    old, new = int(query.from_), int(query.to)
    hashes = chain.consistency_proof(business_id, old, new)
    return {"from": old, "to": new, "hashes": [_b64(h) for h in hashes]}


@route(
    "/businesses/<int:business_id>/chain/blocks",
    "GET",
    summary="Block headers, newest first (`before` a height; `limit` up to 100)",
    tag="chain",
    action="read_books",
    query=BlocksQuery,
)
def chain_blocks(business_id: int, query: BlocksQuery) -> dict[str, Any]:
    before = int(query.before) if query.before is not None else None
    return chain.list_blocks(business_id, before, int(query.limit or 20))


@route(
    "/businesses/<int:business_id>/entries/<int:entry_id>/receipt",
    "GET",
    summary="Offline receipt for a posted entry (JSON, or ?format=png for a QR code)",
    tag="chain",
    action="read_books",
    query=ReceiptQuery,
    errors=[409, 503],
)
def entry_receipt(business_id: int, entry_id: int, query: ReceiptQuery) -> Any:
    """{"leaf", "proof", "vkey"} verifies with scripts/verify_receipt.py and nothing else.
    The PNG carries the receipt itself when it fits in a QR code, else a link to this JSON."""
    receipt = chain.receipt(business_id, entry_id)
    if query.format != "png":
        return receipt
    payload = json.dumps(receipt, ensure_ascii=False, separators=(",", ":"))
    try:
        img = qrcode.make(
            payload, box_size=4, border=2, error_correction=qrcode.constants.ERROR_CORRECT_L
        )
    except (DataOverflowError, ValueError):
        base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
        link = f"{base.rstrip('/')}/api/v1/businesses/{business_id}/entries/{entry_id}/receipt"
        img = qrcode.make(link, box_size=8, border=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf.seek(0)
    return send_file(buf, mimetype="image/png")


@route(
    "/businesses/<int:business_id>/chain/alerts",
    "GET",
    summary="Failed verifications of this business's log (owners)",
    tag="chain",
    action="edit_business",
)
def chain_alerts(business_id: int) -> dict[str, Any]:
    from app.jobs import list_alerts

    return {"items": list_alerts(business_id)}
