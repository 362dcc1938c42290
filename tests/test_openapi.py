"""The OpenAPI document tells the truth about the routes."""

from __future__ import annotations

import re

from flask import Flask

from tests.conftest import Api


def flask_routes(app: Flask) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((path, method.lower()))
    return out


def test_document_lists_exactly_the_routes(api: Api, app: Flask) -> None:
    doc = api.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == flask_routes(app)


def test_request_bodies_are_documented_with_their_schemas(api: Api) -> None:
    doc = api.get("/openapi.json").get_json()
    quick = doc["paths"]["/api/v1/businesses/{business_id}/entries/quick"]["post"]
    ref = quick["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"kind", "amount", "category", "paid_with"}
    assert schema["additionalProperties"] is False
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in quick["parameters"])
    assert quick["security"] == [{"bearer": []}]
    assert "403" in quick["responses"] and "422" in quick["responses"]


def test_every_ref_resolves(api: Api) -> None:
    doc = api.get("/openapi.json").get_json()
    text = str(doc)
    for ref in set(re.findall(r"#/components/(\w+)/(\w+)", text)):
        assert ref[1] in doc["components"][ref[0]], ref


def test_every_post_accepts_an_idempotency_key(api: Api) -> None:
    doc = api.get("/openapi.json").get_json()
    for path, ops in doc["paths"].items():
        if "post" in ops:
            assert any(p["name"] == "Idempotency-Key" for p in ops["post"]["parameters"]), path


def test_receipt_upload_is_documented_as_multipart(api: Api) -> None:
    doc = api.get("/openapi.json").get_json()
    body = doc["paths"]["/api/v1/businesses/{business_id}/receipts"]["post"]["requestBody"]
    assert body["content"]["multipart/form-data"]["schema"]["required"] == ["file"]
