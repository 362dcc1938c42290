"""Access-token check for every authenticated request: the token is decoded and verified once.

flask-jwt-extended still issues the tokens (`create_access_token`), but its
`verify_jwt_in_request` parses each token four times (twice without verification, to find the
key and the header, once verified, and the header once more), and PyJWT checks the base64
alphabet one character at a time on every parse. Here PyJWT verifies it once, with the same
settings flask-jwt-extended would use (key, algorithms, leeway, `sub` a string) and the same
checks after it (an access token, not a refresh one). The session is not taken from the token
alone: the route checks, in the same query as the caller's membership, that it is not revoked
(`app.services.auth.authorize`), so a logout takes effect at once in every worker.

Errors are the ones the flask-jwt-extended loaders in `app/__init__.py` give, with the same
codes: `missing_token`, `invalid_token`, `token_expired` (and `token_revoked` from the session
check).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jwt
from flask import Flask, current_app, request

from app.errors import Unauthorized

HEADER = "Authorization"
TYPE = "Bearer"


@dataclass(frozen=True)
class TokenSettings:
    key: str
    algorithms: tuple[str, ...]
    leeway: int
    verify_sub: bool


def configure(app: Flask) -> None:
    """Read the JWT settings once (called by create_app after JWTManager set its defaults)."""
    algorithm = app.config["JWT_ALGORITHM"]
    algorithms = list(app.config.get("JWT_DECODE_ALGORITHMS") or [algorithm])
    if algorithm not in algorithms:
        algorithms.append(algorithm)
    app.extensions["suanpan.access_token"] = TokenSettings(
        key=app.config["JWT_SECRET_KEY"],
        algorithms=tuple(algorithms),
        leeway=app.config["JWT_DECODE_LEEWAY"],
        verify_sub=app.config["JWT_VERIFY_SUB"],
    )


def _missing(reason: str) -> Unauthorized:
    return Unauthorized(f"Log in first: {reason}", code="missing_token")


def _invalid(reason: str) -> Unauthorized:
    return Unauthorized(f"Token is invalid: {reason}", code="invalid_token")


_SPLIT = re.compile(r",\s*")


def _encoded_token() -> str:
    """The token from `Authorization: Bearer <JWT>`, as flask-jwt-extended reads it."""
    auth = request.headers.get(HEADER, "").strip().strip(",")
    if not auth:
        raise _missing(f"Missing {HEADER} Header")
    fields = [s for s in _SPLIT.split(auth) if s and s.split()[0] == TYPE]
    if len(fields) != 1:
        raise _missing(
            f"Missing '{TYPE}' type in '{HEADER}' header. Expected '{HEADER}: {TYPE} <JWT>'"
        )
    parts = fields[0].split()
    if len(parts) != 2:
        raise _invalid(f"Bad {HEADER} header. Expected '{HEADER}: {TYPE} <JWT>'")
    return parts[1]


def verify() -> tuple[int, int, dict[str, Any]]:
    """(user id, session id, claims) of the request's access token, verified once: signature,
    expiry (and nbf/iat), a string `sub`, an access (not refresh) token with a session id.
    Whether the session is still active is checked by the caller, against the database."""
    settings: TokenSettings = current_app.extensions["suanpan.access_token"]
    token = _encoded_token()
    try:
        claims = jwt.decode(
            token,
            settings.key,
            algorithms=list(settings.algorithms),
            leeway=settings.leeway,
            options={"verify_aud": False, "verify_sub": settings.verify_sub},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Token has expired; refresh it", code="token_expired") from None
    except jwt.InvalidTokenError as exc:
        raise _invalid(str(exc)) from None
    sub = claims.get("sub")
    if sub is None:
        raise _invalid("Missing claim: sub")
    if claims.get("type", "access") == "refresh":
        raise _invalid("Only non-refresh tokens are allowed")
    sid = claims.get("sid")
    if not isinstance(sid, int) or isinstance(sid, bool):
        # flask-jwt-extended's blocklist loader treated a token without a session as revoked.
        raise Unauthorized("This session has been logged out", code="token_revoked")
    if not isinstance(sub, str) or not sub.isdigit():
        raise Unauthorized("Unknown user", code="invalid_token")
    return int(sub), sid, claims
