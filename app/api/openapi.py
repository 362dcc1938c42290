"""The OpenAPI 3.1 document, generated from the route records and the request models."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from app.api.routing import ROUTES, RouteSpec, route

_CONVERTER = re.compile(r"<(?:(int|string|path):)?([a-z_]+)>")
_STATUS_TEXT = {
    400: "Malformed request",
    401: "Not logged in, or the token is invalid",
    403: "Your role does not allow this",
    404: "Not found (or not yours)",
    409: "Conflicts with the state of the books",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Invalid field values",
    429: "Too many requests",
    502: "Upstream service error",
    503: "Upstream service unavailable",
}


def openapi_path(rule: str) -> str:
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule)


def _operation(spec: RouteSpec, components: dict[str, Any]) -> dict[str, Any]:
    params: list[dict[str, Any]] = []
    for kind, name in _CONVERTER.findall(spec.rule):
        params.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if kind == "int" else "string"},
            }
        )
    if spec.query is not None:
        schema = spec.query.model_json_schema(by_alias=True)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
    if spec.idempotent:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Retries with the same key return the first response; a different body with the same key gets 422.",
                "schema": {"type": "string", "maxLength": 255},
            }
        )
    op: dict[str, Any] = {
        "operationId": spec.endpoint,
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": params,
    }
    if spec.description:
        op["description"] = spec.description
    if spec.body is not None:
        schema = spec.body.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            components[name] = sub
        components[spec.body.__name__] = schema
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{spec.body.__name__}"}
                }
            },
        }
    if spec.upload is not None:
        op["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [spec.upload],
                        "properties": {
                            spec.upload: {
                                "type": "string",
                                "contentMediaType": "application/octet-stream",
                            }
                        },
                    }
                }
            },
        }
    ok_content = (
        {"application/json": {"schema": {"type": "object"}}}
        if spec.content_type == "application/json"
        else {
            spec.content_type: {"schema": {"type": "string", "contentMediaType": spec.content_type}}
        }
    )
    responses: dict[str, Any] = {
        str(spec.status): {"description": "Success", "content": ok_content}
    }
    errors = {400, 404, 422, *spec.errors}
    if spec.auth:
        errors.add(401)
    if spec.action:
        errors.add(403)
    for code in sorted(errors):
        responses[str(code)] = {"$ref": f"#/components/responses/E{code}"}
    op["responses"] = responses
    if spec.auth:
        op["security"] = [{"bearer": []}]
    else:
        op["security"] = []
    return op


def build_document() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {},
                    },
                }
            },
        }
    }
    paths: dict[str, Any] = {}
    for spec in ROUTES:
        paths.setdefault("/api/v1" + openapi_path(spec.rule), {})[spec.method.lower()] = _operation(
            spec, schemas
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Suanpan 算盘 API",
            "version": "1.0.0",
            "description": "Bookkeeping for small businesses in China. Money is a decimal string in yuan "
            '("12.30"), stored as integer fen. Dates are Asia/Shanghai business days.',
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                f"E{code}": {
                    "description": text,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
                for code, text in _STATUS_TEXT.items()
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


@route("/openapi.json", "GET", summary="This document", tag="meta", auth=False)
def openapi_document() -> dict[str, Any]:
    doc = current_app.extensions.get("suanpan.openapi")
    if doc is None:
        doc = current_app.extensions["suanpan.openapi"] = build_document()
    return doc


@route("/health", "GET", summary="Liveness and schema version", tag="meta", auth=False)
def health() -> dict[str, Any]:
    return {"status": "ok"}


@route(
    "/ping",
    "GET",
    summary="An empty JSON answer (the benchmark's baseline)",
    tag="meta",
    auth=False,
)
def ping() -> dict[str, Any]:
    return {}
