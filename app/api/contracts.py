"""Rule contracts: documents and versions, deploy / enable / disable, dry-run, runs
(docs/contracts.md)."""

from __future__ import annotations

from typing import Any

from flask import g
from pydantic import Field

from app.api.routing import route
from app.api.schemas import Body, Query
from app.contracts import engine, service, templates


class ContractBody(Body):
    document: dict[str, Any] = Field(description="the contract document (docs/contracts.md)")


class DeployBody(Body):
    version: int | None = Field(default=None, ge=1, description="default: the latest version")


class EmptyBody(Body):
    pass


class DryRunBody(Body):
    version: int | None = Field(default=None, ge=1)
    months: int = Field(default=3, ge=1, le=24)


class TemplateBody(Body):
    params: dict[str, Any] = Field(default_factory=dict, description="the form's fields")
    priority: int | None = Field(default=None, ge=0, le=1000)


class RunsQuery(Query):
    contract: int | None = None


@route(
    "/businesses/<int:business_id>/contracts",
    "GET",
    summary="Contracts in the order they run on one event (priority, then id)",
    tag="contracts",
    action="read_contracts",
)
def list_contracts(business_id: int) -> dict[str, Any]:
    return {"items": service.list_contracts(business_id)}


@route(
    "/businesses/<int:business_id>/contracts",
    "POST",
    summary="Create a contract (version 1, not yet deployed)",
    tag="contracts",
    body=ContractBody,
    action="edit_contracts",
    status=201,
    errors=[422],
)
def create_contract(business_id: int, body: ContractBody) -> dict[str, Any]:
    return service.create_contract(business_id, g.user_id, body.document)


@route(
    "/businesses/<int:business_id>/contracts/<int:contract_id>",
    "GET",
    summary="A contract with every version",
    tag="contracts",
    action="read_contracts",
)
def get_contract(business_id: int, contract_id: int) -> dict[str, Any]:
    return service.get_contract(business_id, contract_id)


@route(
    "/businesses/<int:business_id>/contracts/<int:contract_id>",
    "POST",
    summary="Edit: a new immutable version (the deployed one runs until redeployed)",
    tag="contracts",
    body=ContractBody,
    action="edit_contracts",
    errors=[404, 409, 422],
)
def edit_contract(business_id: int, contract_id: int, body: ContractBody) -> dict[str, Any]:
    return service.edit_contract(business_id, contract_id, g.user_id, body.document)


@route(
    "/businesses/<int:business_id>/contracts/<int:contract_id>/deploy",
    "POST",
    summary="Deploy a version and enable it (a chain leaf with the version hash)",
    tag="contracts",
    body=DeployBody,
    action="deploy_contracts",
    errors=[404],
)
def deploy_contract(business_id: int, contract_id: int, body: DeployBody) -> dict[str, Any]:
    return service.deploy(business_id, contract_id, g.user_id, body.version)


@route(
    "/businesses/<int:business_id>/contracts/<int:contract_id>/enable",
    "POST",
    summary="Enable the deployed version (a chain leaf)",
    tag="contracts",
    body=EmptyBody,
    action="deploy_contracts",
    errors=[404, 409],
)
def enable_contract(business_id: int, contract_id: int, body: EmptyBody) -> dict[str, Any]:
    return service.set_enabled(business_id, contract_id, g.user_id, True)


@route(
    "/businesses/<int:business_id>/contracts/<int:contract_id>/disable",
    "POST",
    summary="Disable: it no longer fires (a chain leaf)",
    tag="contracts",
    body=EmptyBody,
    action="deploy_contracts",
    errors=[404, 409],
)
def disable_contract(business_id: int, contract_id: int, body: EmptyBody) -> dict[str, Any]:
    return service.set_enabled(business_id, contract_id, g.user_id, False)


@route(
    "/businesses/<int:business_id>/contracts/<int:contract_id>/dry-run",
    "POST",
    summary="Replay a version over the last N months of events: what it would have done "
    "(writes nothing)",
    tag="contracts",
    body=DryRunBody,
    action="read_contracts",
    errors=[404],
)
def dry_run_contract(business_id: int, contract_id: int, body: DryRunBody) -> dict[str, Any]:
    return engine.dry_run(business_id, contract_id, body.version, body.months)


@route(
    "/businesses/<int:business_id>/contracts/runs",
    "GET",
    summary="Contract runs, newest first, each with its trigger and run leaves",
    tag="contracts",
    query=RunsQuery,
    action="read_contracts",
)
def list_runs(business_id: int, query: RunsQuery) -> dict[str, Any]:
    return {"items": service.list_runs(business_id, query.contract)}


@route(
    "/businesses/<int:business_id>/contracts/process",
    "POST",
    summary="Run the engine now for this business (as the scheduler does every few seconds)",
    tag="contracts",
    body=EmptyBody,
    action="edit_contracts",
)
def process_now(business_id: int, body: EmptyBody) -> dict[str, Any]:
    return {"runs": engine.tick(business_id)}


@route(
    "/businesses/<int:business_id>/contracts/templates",
    "GET",
    summary="Contract templates and the form fields each one asks for",
    tag="contracts",
    action="read_contracts",
)
def list_templates(business_id: int) -> dict[str, Any]:
    return {"items": templates.describe()}


@route(
    "/businesses/<int:business_id>/contracts/templates/<key>",
    "POST",
    summary="Create a contract from a template's form (version 1, not yet deployed)",
    tag="contracts",
    body=TemplateBody,
    action="edit_contracts",
    status=201,
    errors=[404, 422],
)
def create_from_template(business_id: int, key: str, body: TemplateBody) -> dict[str, Any]:
    doc = templates.build(key, body.params, body.priority)
    return service.create_contract(business_id, g.user_id, doc, template=key)
