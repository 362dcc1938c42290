"""Idempotency-Key for POSTs: a retry returns the first response; nothing is done twice.

The whole request runs in one write transaction together with storing its response, so there is
no moment where the change is committed but its record is not (a crash there would let a retry
post twice). Concurrent requests with the same key: on SQLite the write lock serialises them; on
PostgreSQL the loser hits the unique index when it stores its record, its transaction (with its
change) is rolled back, and it replays the winner's response.

Refusals (4xx) are not stored: the service already rolled its own work back, and the caller may
fix the problem and retry with the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from flask import Response, g, request
from peewee import IntegrityError

from app.db import write_transaction
from app.errors import ApiError, BadRequest, Unprocessable
from app.models import IdempotencyRecord

HEADER = "Idempotency-Key"


class _LostRace(Exception):
    pass


def _fingerprint() -> str:
    raw = request.get_data(cache=True)
    try:
        canonical = json.dumps(
            json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except ValueError:
        canonical = raw
    h = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), canonical):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def _replay(rec: IdempotencyRecord) -> Response:
    resp = Response(rec.response_body, status=rec.status_code, mimetype="application/json")
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def run(call: Callable[[], Response]) -> Response:
    from app.api.errors import error_response

    key = request.headers.get(HEADER, "")
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise BadRequest(f"{HEADER}: 1-255 printable characters", code="invalid_idempotency_key")
    scope = f"user:{g.user_id}" if g.get("user_id") else "anonymous"
    fingerprint = _fingerprint()

    def find() -> IdempotencyRecord | None:
        return IdempotencyRecord.get_or_none(
            (IdempotencyRecord.scope == scope) & (IdempotencyRecord.key == key)
        )

    try:
        with write_transaction():
            rec = find()
            if rec is not None:
                if rec.request_hash != fingerprint:
                    raise Unprocessable(
                        f"{HEADER} was already used for a different request",
                        code="idempotency_key_reused",
                    )
                return _replay(rec)
            try:
                resp = call()
            except ApiError as err:
                return error_response(err)
            if 200 <= resp.status_code < 300 and resp.mimetype == "application/json":
                try:
                    with write_transaction():
                        IdempotencyRecord.create(
                            user=g.get("user_id"),
                            scope=scope,
                            key=key,
                            request_hash=fingerprint,
                            status_code=resp.status_code,
                            response_body=resp.get_data(as_text=True),
                        )
                except IntegrityError:
                    raise _LostRace() from None
            return resp
    except _LostRace:
        rec = find()
        if rec is None or rec.request_hash != fingerprint:
            raise Unprocessable(
                f"{HEADER} was already used for a different request", code="idempotency_key_reused"
            ) from None
        return _replay(rec)
