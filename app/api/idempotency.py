"""Idempotency-Key for POSTs: a retry returns the first response; nothing is done twice.

The request's change and the record of its response commit in one transaction, so there is no
moment where the change is committed but its record is not (a crash there would let a retry
post twice). The lookup of an earlier response runs first, outside that transaction; the write
transaction begins at the request's first write (`app.db.deferred_write`), so on SQLite the
database's write lock is not held while the request is parsed and validated. Concurrent requests
with the same key both miss the lookup; the unique index on (scope, key) decides: the loser's
record insert fails (on SQLite after the winner committed; on PostgreSQL it waits for the
winner's commit), its transaction (with its change) is rolled back, and it replays the winner's
response.

Refusals (4xx) are not stored: the service already rolled its own work back, and the caller may
fix the problem and retry with the same key.

Stored responses are encrypted (AES-GCM, key derived from SECRET_KEY): some carry credentials
(a retried login or token refresh must get the same tokens back), and those must not sit in the
database in clear.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Response, current_app, g, request
from peewee import IntegrityError

from app.clock import utcnow
from app.db import db, deferred_write, execute, write_transaction
from app.errors import ApiError, BadRequest, Unprocessable

HEADER = "Idempotency-Key"


class _LostRace(Exception):
    pass


def _canonical_body() -> bytes:
    """The request body in a form that does not change between retries of the same request.

    JSON is re-serialised with sorted keys. A multipart upload is reduced to its fields and the
    SHA-256 of each file, because the boundary a client picks is random on every attempt.
    """
    if request.mimetype == "multipart/form-data":
        parts = [f"field:{k}={v}" for k, v in sorted(request.form.items(multi=True))]
        for name, storage in sorted(request.files.items(multi=True), key=lambda kv: kv[0]):
            content = storage.stream.read()
            storage.stream.seek(0)
            parts.append(f"file:{name}={hashlib.sha256(content).hexdigest()}")
        return "\n".join(parts).encode()
    raw = request.get_data(cache=True)
    try:
        return json.dumps(
            json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except ValueError:
        return raw


def _fingerprint() -> str:
    canonical = _canonical_body()
    h = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), canonical):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def _aead() -> AESGCM:
    """AES-256-GCM under a key derived from SECRET_KEY (one cipher object per key: it holds
    only the key schedule, and every message gets a fresh random 96-bit nonce)."""
    secret = current_app.config["SECRET_KEY"]
    aead = _AEADS.get(secret)
    if aead is None:
        key = hashlib.sha256(b"suanpan/idempotency-response/v1\x00" + secret.encode()).digest()
        aead = _AEADS[secret] = AESGCM(key)
    return aead


_AEADS: dict[str, AESGCM] = {}


# Stored as base64(nonce (12) + tag (16) + ciphertext). `cryptography` (OpenSSL) seals in about
# 2 µs; pycryptodome took about 60 µs, building its GCM cipher in Python, inside the write lock.


def seal_body(text: str) -> str:
    nonce = os.urandom(12)
    sealed = _aead().encrypt(nonce, text.encode(), None)  # ciphertext + tag
    return base64.b64encode(nonce + sealed[-16:] + sealed[:-16]).decode()


def open_body(sealed: str) -> str:
    raw = base64.b64decode(sealed)
    return _aead().decrypt(raw[:12], raw[28:] + raw[12:28], None).decode()


_FIND = (
    'SELECT "request_hash", "status_code", "response_body" FROM "idempotency_record" '
    'WHERE "scope" = ? AND "key" = ?'
)
_INSERT = (
    'INSERT INTO "idempotency_record" ("user_id", "scope", "key", "request_hash", '
    '"status_code", "response_body", "created_at") VALUES (?, ?, ?, ?, ?, ?, ?)'
)


def _find(scope: str, key: str) -> tuple[str, int, str] | None:
    return execute(_FIND, (scope, key)).fetchone()


def _replay(rec: tuple[str, int, str]) -> Response:
    resp = Response(open_body(rec[2]), status=rec[1], mimetype="application/json")
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def _reused() -> Unprocessable:
    return Unprocessable(
        f"{HEADER} was already used for a different request", code="idempotency_key_reused"
    )


def run(call: Callable[[], Response], *, write_late: bool = False) -> Response:
    """Run `call` once per key. With `write_late` (routes whose services write only through
    `write_transaction()`), the transaction begins at the first write instead of up front."""
    from app.api.errors import error_response

    key = request.headers.get(HEADER, "")
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise BadRequest(f"{HEADER}: 1-255 printable characters", code="invalid_idempotency_key")
    scope = f"user:{g.user_id}" if g.get("user_id") else "anonymous"
    fingerprint = _fingerprint()

    rec = _find(scope, key)
    if rec is not None:
        if rec[0] != fingerprint:
            raise _reused()
        return _replay(rec)
    try:
        with deferred_write() if write_late else write_transaction():
            try:
                resp = call()
            except ApiError as err:
                # Whatever the request wrote was rolled back with the service's transaction.
                return error_response(err)
            if 200 <= resp.status_code < 300 and resp.mimetype == "application/json":
                params = (
                    g.get("user_id"),
                    scope,
                    key,
                    fingerprint,
                    resp.status_code,
                    seal_body(resp.get_data(as_text=True)),
                    utcnow(),
                )
                # No savepoint: if another request stored this key first, everything this
                # request did is rolled back below and the other's response is replayed.
                try:
                    if db.obj.transaction_depth() > 0:
                        execute(_INSERT, params)
                    else:  # the request wrote nothing else
                        with write_transaction():
                            execute(_INSERT, params)
                except IntegrityError:
                    raise _LostRace() from None
            return resp
    except _LostRace:
        rec = _find(scope, key)
        if rec is None or rec[0] != fingerprint:
            raise _reused() from None
        return _replay(rec)
