"""How a view becomes an API route: auth, tenancy, idempotency and validation, in that order.

`route()` is the one decorator every /api/v1 view uses. It also records what it registered, and
the OpenAPI document is generated from those records, so the document cannot drift from the
routes (a test compares both with Flask's URL map).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from pydantic import ValidationError

from app.api import access_token, idempotency
from app.api.errors import validation_error
from app.api.schemas import Body, Query
from app.errors import BadRequest, Unprocessable
from app.services.auth import authorize
from app.services.businesses import require_member

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass
class RouteSpec:
    rule: str
    method: str
    endpoint: str
    summary: str
    tag: str
    body: type[Body] | None = None
    query: type[Query] | None = None
    auth: bool = True
    action: str | None = None
    idempotent: bool = False
    status: int = 200
    content_type: str = "application/json"
    description: str = ""
    errors: list[int] = field(default_factory=list)
    # Name of the file part for multipart uploads (parsed by the view; documented in OpenAPI).
    upload: str | None = None
    # The view writes only through services' write_transaction(), so an Idempotency-Key request
    # may begin its transaction at the first write (app.db.deferred_write) rather than up front.
    write_late: bool = False


ROUTES: list[RouteSpec] = []


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_json() -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    ctype = request.mimetype or ""
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise BadRequest(
            "Send the body as application/json", code="unsupported_media_type", status=415
        )
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"Body is not valid JSON: {exc}", code="malformed_json") from None


def parse_body(model: type[Body]) -> Body:
    data = read_json()
    if not isinstance(data, dict):
        raise BadRequest("Body must be a JSON object", code="malformed_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def parse_query(model: type[Query]) -> Query:
    args: dict[str, Any] = {}
    for name in request.args:
        values = request.args.getlist(name)
        if len(values) > 1:
            raise BadRequest(f"query parameter {name} given more than once", code="invalid_query")
        args[name] = values[0]
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        raise validation_error(exc) from None


def date_param(text: str | None, field: str = "date") -> dt.date | None:
    """A YYYY-MM-DD value the schema already shaped; None stays None. Refuses impossible dates."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Unprocessable(f"{field}: not a calendar date", code="invalid_date") from None


def to_response(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        result, status = result
    resp = jsonify(result)
    resp.status_code = status
    return resp


def route(
    rule: str,
    method: str,
    *,
    summary: str,
    tag: str,
    body: type[Body] | None = None,
    query: type[Query] | None = None,
    auth: bool = True,
    action: str | None = None,
    status: int = 200,
    content_type: str = "application/json",
    errors: list[int] | None = None,
    upload: str | None = None,
    write_late: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view. `action` names the permission checked against the caller's role in the
    business from the URL; every POST takes an optional Idempotency-Key."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        spec = RouteSpec(
            rule=rule,
            method=method,
            endpoint=view.__name__,
            summary=summary,
            tag=tag,
            body=body,
            query=query,
            auth=auth,
            action=action,
            idempotent=method == "POST",
            status=status,
            content_type=content_type,
            description=(view.__doc__ or "").strip(),
            errors=errors or [],
            upload=upload,
            write_late=write_late,
        )
        if "<int:business_id>" in rule and action is None:
            raise RuntimeError(f"{rule}: business routes must name an action (tenancy check)")

        def call(kwargs: dict[str, Any]) -> Response:
            if spec.body is not None:
                kwargs["body"] = parse_body(spec.body)
            if spec.query is not None:
                kwargs["query"] = parse_query(spec.query)
            return to_response(view(**kwargs), spec.status)

        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Response:
            g.user_id = None
            tenant = spec.action is not None and "business_id" in kwargs
            if spec.auth:
                # The token is verified once; its session (not revoked) and, on a business
                # route, the caller's role there are checked in one query.
                g.user_id, g.session_id, g.jwt_claims = access_token.verify()
                member = authorize(
                    g.session_id,
                    g.user_id,
                    kwargs["business_id"] if tenant else None,
                    spec.action if tenant else None,
                )
                if tenant:
                    g.membership = member
            elif tenant:
                g.membership = require_member(g.user_id, kwargs["business_id"], spec.action)
            if spec.idempotent and request.headers.get("Idempotency-Key") is not None:
                return idempotency.run(lambda: call(dict(kwargs)), write_late=spec.write_late)
            return call(kwargs)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
        ROUTES.append(spec)
        return wrapper

    return decorate
