"""Contract lifecycle: create and edit (each a new immutable version), deploy, enable, disable.

Deploying, enabling and disabling are chain leaves (`contract.deployed` / `.enabled` /
`.disabled`) carrying the version's number and canonical hash; the leaf's actor is who did it.
Creating a version is a leaf too (`contract.versioned`), so the log alone shows every document
that ever existed. Runs act as the user who deployed the running version.
"""

from __future__ import annotations

import json
from typing import Any

from app.chain_store import next_leaf_index
from app.clock import iso_utc, utcnow
from app.contracts.document import (
    account_codes,
    canonical,
    trigger_type,
    validate,
    version_hash,
)
from app.db import write_transaction
from app.errors import Conflict, NotFound, Unprocessable
from app.events import LedgerEvent, emit
from app.models import Account, Contract, ContractRun, ContractVersion
from app.services.accounts import parent_codes
from app.services.posting import _lock_business


def _version_dict(v: ContractVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "hash": v.hash,
        "document": json.loads(v.document),
        "created_by": v.created_by_id,
        "created_at": iso_utc(v.created_at),
    }


def contract_dict(c: Contract, *, versions: bool = False) -> dict[str, Any]:
    latest = (
        ContractVersion.select()
        .where(ContractVersion.contract == c.id)
        .order_by(ContractVersion.version.desc())
        .first()
    )
    deployed = _version(c.id, c.deployed_version) if c.deployed_version else None
    doc = json.loads((deployed or latest).document)
    out: dict[str, Any] = {
        "id": c.id,
        "name": c.name,
        "priority": c.priority,
        "enabled": c.enabled,
        "template": c.template or None,
        "trigger": trigger_type(doc),
        "latest_version": latest.version,
        "deployed_version": c.deployed_version,
        "deployed_hash": deployed.hash if deployed else None,
        "deployed_by": c.deployed_by_id,
        "document": json.loads(latest.document),
        "created_at": iso_utc(c.created_at),
        "updated_at": iso_utc(c.updated_at),
    }
    if versions:
        out["versions"] = [
            _version_dict(v)
            for v in ContractVersion.select()
            .where(ContractVersion.contract == c.id)
            .order_by(ContractVersion.version)
        ]
    return out


def _version(contract_id: int, number: int) -> ContractVersion:
    v = ContractVersion.get_or_none(
        (ContractVersion.contract == contract_id) & (ContractVersion.version == number)
    )
    if v is None:
        raise NotFound("Contract version not found", code="contract_version_not_found")
    return v


def load(business_id: int, contract_id: int) -> Contract:
    c = Contract.get_or_none((Contract.id == contract_id) & (Contract.business == business_id))
    if c is None:
        raise NotFound("Contract not found", code="contract_not_found")
    return c


def _add_version(c: Contract, doc: dict[str, Any], actor_id: int, number: int) -> ContractVersion:
    text = canonical(doc).decode("utf-8")
    v = ContractVersion.create(
        contract=c.id,
        business=c.business_id,
        version=number,
        document=text,
        hash=version_hash(doc),
        created_by=actor_id,
        created_at=utcnow(),
    )
    emit(
        LedgerEvent(
            "contract.versioned",
            c.business_id,
            actor_id,
            {"contract": c.id, "version": number, "hash": v.hash, "document": doc},
        )
    )
    return v


def check_accounts(business_id: int, doc: dict[str, Any]) -> None:
    """Every account the contract names must exist, be active and take postings (no parent
    account) in this business's chart: found when the owner saves or deploys it, not months
    later when a payment has already left and its posting is refused."""
    codes = account_codes(doc)
    found = {
        a.code: a
        for a in Account.select().where(
            (Account.business == business_id) & Account.code.in_([c for _, c in codes])
        )
    }
    parents = parent_codes(business_id)
    for path, code in codes:
        a = found.get(code)
        if a is None:
            raise Unprocessable(
                f"{path}: account {code} does not exist in this business's chart",
                code="unknown_account",
                details={"path": path, "account": code},
            )
        if not a.is_active or code in parents:
            why = "is inactive" if not a.is_active else "has sub-accounts; name one of them"
            raise Unprocessable(
                f"{path}: account {code} {why}",
                code="account_not_leaf" if a.is_active else "inactive_account",
                details={"path": path, "account": code},
            )


def create_contract(
    business_id: int, actor_id: int, doc: dict[str, Any], template: str = ""
) -> dict[str, Any]:
    validate(doc)
    check_accounts(business_id, doc)
    now = utcnow()
    with write_transaction():
        c = Contract.create(
            business=business_id,
            name=doc["name"],
            priority=doc.get("priority", 100),
            template=template,
            created_by=actor_id,
            created_at=now,
            updated_at=now,
        )
        _add_version(c, doc, actor_id, 1)
    return contract_dict(c)


def edit_contract(
    business_id: int, contract_id: int, actor_id: int, doc: dict[str, Any]
) -> dict[str, Any]:
    """A new version; the deployed one keeps running until the new one is deployed."""
    validate(doc)
    check_accounts(business_id, doc)
    with write_transaction():
        c = load(business_id, contract_id)
        last = (
            ContractVersion.select()
            .where(ContractVersion.contract == c.id)
            .order_by(ContractVersion.version.desc())
            .first()
        )
        if last.hash == version_hash(doc):
            raise Conflict("the document is the same as the latest version", code="unchanged")
        _add_version(c, doc, actor_id, last.version + 1)
        c.name, c.updated_at = doc["name"], utcnow()
        c.save()
    return contract_dict(c)


def deploy(
    business_id: int, contract_id: int, actor_id: int, version: int | None
) -> dict[str, Any]:
    """Make a version the one that runs (and enable the contract). Under the business lock,
    like postings and runs, so deployed_leaf is the deployment's own leaf and no run can
    slip between the check and the change."""
    with write_transaction():
        _lock_business(business_id)
        c = load(business_id, contract_id)
        if version is None:
            version = (
                ContractVersion.select()
                .where(ContractVersion.contract == c.id)
                .order_by(ContractVersion.version.desc())
                .first()
                .version
            )
        v = _version(c.id, version)
        doc = json.loads(v.document)
        check_accounts(business_id, doc)  # the chart may have changed since it was saved
        c.deployed_version, c.deployed_by = v.version, actor_id
        c.deployed_leaf = next_leaf_index(business_id)  # the deployment leaf itself
        c.priority, c.enabled, c.updated_at = doc.get("priority", 100), True, utcnow()
        c.save()
        emit(
            LedgerEvent(
                "contract.deployed",
                business_id,
                actor_id,
                {"contract": c.id, "version": v.version, "hash": v.hash, "priority": c.priority},
            )
        )
    return contract_dict(c)


def set_enabled(business_id: int, contract_id: int, actor_id: int, enabled: bool) -> dict[str, Any]:
    with write_transaction():
        _lock_business(business_id)  # see deploy
        c = load(business_id, contract_id)
        if c.deployed_version is None:
            raise Conflict("deploy a version first", code="contract_not_deployed")
        if c.enabled == enabled:
            raise Conflict(
                f"the contract is already {'enabled' if enabled else 'disabled'}",
                code="contract_state",
            )
        v = _version(c.id, c.deployed_version)
        c.enabled, c.updated_at = enabled, utcnow()
        if enabled:  # events that arrived while it was off do not fire it later
            c.deployed_leaf = next_leaf_index(business_id)
        c.save()
        emit(
            LedgerEvent(
                "contract.enabled" if enabled else "contract.disabled",
                business_id,
                actor_id,
                {"contract": c.id, "version": v.version, "hash": v.hash},
            )
        )
    return contract_dict(c)


def list_contracts(business_id: int) -> list[dict[str, Any]]:
    """In the order they run on one event: priority, then id (shown so conflicts are clear)."""
    q = Contract.select().where(Contract.business == business_id)
    return [contract_dict(c) for c in q.order_by(Contract.priority, Contract.id)]


def get_contract(business_id: int, contract_id: int) -> dict[str, Any]:
    return contract_dict(load(business_id, contract_id), versions=True)


def run_dict(r: ContractRun) -> dict[str, Any]:
    return {
        "id": r.id,
        "contract": r.contract_id,
        "version": ContractVersion.get_by_id(r.version_id).version,
        "trigger": {"leaf": r.trigger_leaf, "hash": r.trigger_hash, "type": r.event_type},
        "decision": r.decision,
        "reason": r.reason,
        "actions": json.loads(r.actions),
        "leaf": r.run_leaf,
        "created_at": iso_utc(r.created_at),
    }


def list_runs(business_id: int, contract_id: int | None = None) -> list[dict[str, Any]]:
    q = ContractRun.select().where(ContractRun.business == business_id)
    if contract_id is not None:
        q = q.where(ContractRun.contract == contract_id)
    return [run_dict(r) for r in q.order_by(ContractRun.id.desc()).limit(200)]
