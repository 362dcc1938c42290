"""Every error the API returns is JSON: {"error": {"code", "message"[, "details"]}}.

Registered on the app (not only the blueprint) so unknown URLs, wrong methods and oversized
bodies answer in the same shape. Unexpected exceptions are logged and become a bare 500 JSON.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from app.errors import ApiError, Unprocessable

log = logging.getLogger(__name__)


def error_response(err: ApiError) -> Response:
    resp = jsonify(err.to_dict())
    resp.status_code = err.status
    for name, value in err.headers.items():
        resp.headers[name] = value
    return resp


def validation_error(exc: ValidationError) -> ApiError:
    problems = []
    kinds = set()
    for e in exc.errors(include_url=False, include_context=False, include_input=False):
        field = ".".join(str(p) for p in e["loc"]) or "body"
        kinds.add(e["type"])
        problems.append({"field": field, "type": e["type"], "message": e["msg"]})
    if "extra_forbidden" in kinds:
        code = "unknown_field"
    elif kinds == {"missing"}:
        code = "missing_field"
    else:
        code = "invalid_field"
    first = problems[0]
    return Unprocessable(
        f"{first['field']}: {first['message']}", code=code, details={"problems": problems}
    )


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError) -> Response:
        return error_response(err)

    @app.errorhandler(ValidationError)
    def _validation(err: ValidationError) -> Response:
        return error_response(validation_error(err))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        err = ApiError(exc.description or exc.name, code=_http_code(exc), status=exc.code or 500)
        resp = error_response(err)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(
            ApiError("Internal error; it has been logged", code="internal_error", status=500)
        )
