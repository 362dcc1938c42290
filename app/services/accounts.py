"""The chart of accounts and quick-record categories of one business."""

from __future__ import annotations

import re
from typing import Any

from peewee import IntegrityError

from app.db import write_transaction
from app.errors import Conflict, NotFound, Unprocessable
from app.events import LedgerEvent, emit
from app.models import Account, Category, EntryLine

_SUBCODE = re.compile(r"[0-9]{2}")


def account_dict(a: Account, is_leaf: bool | None = None) -> dict[str, Any]:
    out = {
        "code": a.code,
        "name": a.name,
        "name_en": a.name_en,
        "type": a.type,
        "normal_side": a.normal_side,
        "parent": a.parent_code,
        "is_active": a.is_active,
        "is_standard": a.is_standard,
    }
    if is_leaf is not None:
        out["is_leaf"] = is_leaf
    return out


def parent_codes(business_id: int) -> set[str]:
    return {
        a.parent_code
        for a in Account.select(Account.parent_code).where(
            (Account.business == business_id) & Account.parent_code.is_null(False)
        )
    }


def list_accounts(business_id: int) -> list[dict[str, Any]]:
    parents = parent_codes(business_id)
    rows = Account.select().where(Account.business == business_id).order_by(Account.code)
    return [account_dict(a, a.code not in parents) for a in rows]


def get_account(business_id: int, code: str) -> Account:
    a = Account.get_or_none((Account.business == business_id) & (Account.code == code))
    if a is None:
        raise NotFound(f"Account {code} not found", code="account_not_found")
    return a


def create_sub_account(
    business_id: int,
    actor_id: int,
    parent: str,
    name: str,
    name_en: str = "",
    code: str | None = None,
) -> Account:
    """Add a business's own sub-account (明细科目) under an existing account.

    A parent that already carries postings cannot get children: its history would then sit on a
    non-leaf account that no longer takes postings.
    """
    name = name.strip()
    if not name:
        raise Unprocessable("name: required", code="invalid_name")
    with write_transaction():
        p = get_account(business_id, parent)
        if len(p.code) >= 12:
            raise Unprocessable("Accounts nest at most five levels deep", code="too_deep")
        siblings = [
            a.code
            for a in Account.select(Account.code).where(
                (Account.business == business_id) & (Account.parent_code == p.code)
            )
        ]
        if code is None:
            used = {int(c[-2:]) for c in siblings}
            free = next((n for n in range(1, 100) if n not in used), None)
            if free is None:
                raise Conflict(
                    "No free sub-account code under this account", code="codes_exhausted"
                )
            code = f"{p.code}{free:02d}"
        elif not (code.startswith(p.code) and _SUBCODE.fullmatch(code[len(p.code) :])):
            raise Unprocessable(
                f"code: expected {p.code} followed by two digits", code="invalid_account_code"
            )
        if not siblings and EntryLine.select().where(EntryLine.account == p.id).exists():
            raise Conflict(
                f"Account {p.code} already has postings; it cannot get sub-accounts",
                code="account_has_postings",
            )
        try:
            with write_transaction():
                acct = Account.create(
                    business=business_id,
                    code=code,
                    name=name,
                    name_en=name_en.strip(),
                    type=p.type,
                    normal_side=p.normal_side,
                    parent_code=p.code,
                    is_standard=False,
                )
        except IntegrityError:
            raise Conflict(f"Account {code} already exists", code="account_exists") from None
        emit(
            LedgerEvent(
                "account.created",
                business_id,
                actor_id,
                {"code": acct.code, "name": acct.name, "parent": p.code, "type": acct.type},
            )
        )
        return acct


def category_dict(c: Category) -> dict[str, Any]:
    return {
        "key": c.key,
        "kind": c.kind,
        "name": c.name,
        "name_en": c.name_en,
        "icon": c.icon,
        "account": c.account_code,
        "is_active": c.is_active,
    }


def list_categories(business_id: int) -> list[dict[str, Any]]:
    rows = (
        Category.select()
        .where(Category.business == business_id)
        .order_by(Category.sort_order, Category.id)
    )
    return [category_dict(c) for c in rows]


def _check_category_account(business_id: int, kind: str, code: str) -> None:
    acct = get_account(business_id, code)
    if code in parent_codes(business_id):
        raise Unprocessable(
            f"account {code} has sub-accounts; map to one of them", code="account_not_leaf"
        )
    allowed = {"income": {"revenue"}, "expense": {"expense", "cost", "asset"}}[kind]
    if acct.type not in allowed:
        raise Unprocessable(
            f"account {code} is a {acct.type} account; a {kind} category maps to {'/'.join(sorted(allowed))}",
            code="account_type_mismatch",
        )


def upsert_category(
    business_id: int,
    key: str,
    kind: str | None,
    name: str | None,
    name_en: str | None,
    account: str | None,
    icon: str | None,
    is_active: bool | None,
) -> Category:
    """Edit a category's mapping and names, or add the business's own category."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,31}", key):
        raise Unprocessable("key: 2-32 lowercase letters, digits or _", code="invalid_category_key")
    with write_transaction():
        c = Category.get_or_none((Category.business == business_id) & (Category.key == key))
        if c is None:
            if kind not in ("income", "expense") or not name or not account:
                raise Unprocessable(
                    "A new category needs kind (income|expense), name and account",
                    code="incomplete_category",
                )
            _check_category_account(business_id, kind, account)
            order = Category.select().where(Category.business == business_id).count()
            return Category.create(
                business=business_id,
                key=key,
                kind=kind,
                name=name,
                name_en=name_en or name,
                icon=icon or "",
                account_code=account,
                sort_order=order,
            )
        if kind is not None and kind != c.kind:
            raise Unprocessable("kind of an existing category cannot change", code="kind_immutable")
        if account is not None:
            _check_category_account(business_id, c.kind, account)
            c.account_code = account
        if name is not None:
            c.name = name
        if name_en is not None:
            c.name_en = name_en
        if icon is not None:
            c.icon = icon
        if is_active is not None:
            c.is_active = is_active
        c.save()
        return c
