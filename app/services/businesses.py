"""Businesses, memberships with roles, and invitations.

Tenancy is a security boundary: `require_member` is the one gate every business resource goes
through. A caller who is not a member gets 404 (the business's existence is not revealed); a
member whose role is not enough gets 403.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any, NamedTuple

from peewee import IntegrityError

from app import uscc as uscc_rules
from app.chart import STANDARD_ACCOUNTS, STANDARD_CATEGORIES, normal_side, parent_code
from app.clock import iso_utc, utcnow
from app.db import fetchone, write_transaction
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.events import LedgerEvent, emit
from app.models import Account, Business, Category, Invite, Membership, User
from app.models.businesses import ROLES, TAXPAYER_TYPES

# Who may do what. Views name an action; the roles that may perform it live here, in one place.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "read": ("owner", "bookkeeper", "employee", "viewer"),
    "read_books": ("owner", "bookkeeper", "viewer"),
    "post": ("owner", "bookkeeper"),
    "quick_record": ("owner", "bookkeeper"),
    "manage_accounts": ("owner", "bookkeeper"),
    "close_period": ("owner", "bookkeeper"),
    "reopen_period": ("owner",),
    "manage_members": ("owner",),
    "edit_business": ("owner",),
    "read_tax": ("owner", "bookkeeper", "viewer"),
    "manage_tax": ("owner", "bookkeeper"),
    "edit_tax_profile": ("owner", "bookkeeper"),
    # Expense claims (docs/receipts.md): employees see only their own claims and receipts.
    "file_claims": ("owner", "bookkeeper", "employee"),
    "read_claims": ("owner", "bookkeeper", "employee", "viewer"),
    "approve_claims": ("owner", "bookkeeper"),
    # Rule contracts and payments (docs/contracts.md): only owners put rules into force.
    "read_contracts": ("owner", "bookkeeper", "viewer"),
    "edit_contracts": ("owner", "bookkeeper"),
    "deploy_contracts": ("owner",),
    "read_payments": ("owner", "bookkeeper", "viewer"),
    # a payee's own transfers to accept (scoped to the caller in app/payments/service.py)
    "receive_payments": ("owner", "bookkeeper", "employee", "viewer"),
    "manage_bills": ("owner", "bookkeeper"),
    "approve_payments": ("owner", "bookkeeper"),
    "pay_manual": ("owner", "bookkeeper"),
}


class Member(NamedTuple):
    user_id: int
    business_id: int
    role: str


def require_member(user_id: int, business_id: int, action: str = "read") -> Member:
    row = fetchone(
        'SELECT "role" FROM "membership" WHERE "user_id" = ? AND "business_id" = ?',
        user_id,
        business_id,
    )
    return member_as(user_id, business_id, row[0] if row else None, action)


def member_as(user_id: int, business_id: int, role: str | None, action: str) -> Member:
    """The tenancy rule, wherever the role was read: not a member (None) is 404, so a
    business's existence is not revealed; a role that may not do `action` is 403."""
    if role is None:
        raise NotFound("Business not found", code="business_not_found")
    if role not in PERMISSIONS[action]:
        raise Forbidden(
            f"Your role ({role}) cannot do this ({action})",
            code="forbidden_role",
            details={"role": role, "allowed": list(PERMISSIONS[action])},
        )
    return Member(user_id, business_id, role)


def business_dict(b: Business, role: str | None = None) -> dict[str, Any]:
    out = {
        "id": b.id,
        "name": b.name,
        "uscc": b.uscc,
        "uscc_check_ok": b.uscc_check_ok,
        "taxpayer_type": b.taxpayer_type,
        "industry": b.industry,
        "region": b.region,
        "created_at": iso_utc(b.created_at),
    }
    if role is not None:
        out["role"] = role
    return out


def validate_uscc(code: str, accept_check_mismatch: bool) -> tuple[str, bool]:
    code = uscc_rules.normalize(code)
    if not uscc_rules.is_well_formed(code):
        raise Unprocessable(
            "uscc: a 统一社会信用代码 has 18 characters from 0-9 and A-Y without I, O, S, V, Z",
            code="invalid_uscc",
        )
    ok = uscc_rules.check_ok(code)
    if not ok and not accept_check_mismatch:
        raise Unprocessable(
            "uscc: the check character does not match (GB 32100-2015). If the code is printed so on "
            "the business licence, resend with accept_uscc_check_mismatch=true",
            code="uscc_check_mismatch",
            details={"expected_check_character": uscc_rules.check_character(code[:17])},
        )
    return code, ok


def seed_books(business: Business) -> None:
    """Give a new business the standard chart of accounts and quick-record categories."""
    known = {a.code for a in STANDARD_ACCOUNTS}
    Account.insert_many(
        [
            {
                "business": business.id,
                "code": a.code,
                "name": a.name,
                "name_en": a.name_en,
                "type": a.type,
                "normal_side": normal_side(a.type, a.code),
                "parent_code": parent_code(a.code, known),
                "is_standard": True,
            }
            for a in STANDARD_ACCOUNTS
        ]
    ).execute()
    Category.insert_many(
        [
            {
                "business": business.id,
                "key": c.key,
                "kind": c.kind,
                "name": c.name,
                "name_en": c.name_en,
                "icon": c.icon,
                "account_code": c.account_code,
                "sort_order": i,
            }
            for i, c in enumerate(STANDARD_CATEGORIES)
        ]
    ).execute()


def create_business(
    user_id: int,
    name: str,
    uscc: str,
    taxpayer_type: str,
    industry: str = "",
    region: str = "",
    accept_uscc_check_mismatch: bool = False,
) -> Business:
    name = name.strip()
    if not name:
        raise Unprocessable("name: required", code="invalid_name")
    if taxpayer_type not in TAXPAYER_TYPES:
        raise Unprocessable("taxpayer_type: small_scale or general", code="invalid_taxpayer_type")
    code, ok = validate_uscc(uscc, accept_uscc_check_mismatch)
    with write_transaction():
        business = Business.create(
            name=name,
            uscc=code,
            uscc_check_ok=ok,
            taxpayer_type=taxpayer_type,
            industry=industry.strip(),
            region=region.strip(),
            created_by=user_id,
        )
        seed_books(business)
        Membership.create(user=user_id, business=business, role="owner")
        emit(
            LedgerEvent(
                "membership.granted",
                business.id,
                user_id,
                {"user_id": user_id, "role": "owner", "via": "created_business"},
            )
        )
    return business


def memberships_of(user_id: int) -> list[dict[str, Any]]:
    rows = (
        Membership.select(Membership, Business)
        .join(Business)
        .where(Membership.user == user_id)
        .order_by(Business.name, Business.id)
    )
    return [business_dict(m.business, m.role) for m in rows]


def list_members(business_id: int) -> list[dict[str, Any]]:
    rows = (
        Membership.select(Membership, User)
        .join(User)
        .where(Membership.business == business_id)
        .order_by(Membership.id)
    )
    return [
        {
            "user_id": m.user.id,
            "display_name": m.user.display_name,
            "username": m.user.username,
            "role": m.role,
            "joined_at": iso_utc(m.created_at),
        }
        for m in rows
    ]


def _owner_count(business_id: int) -> int:
    return (
        Membership.select()
        .where((Membership.business == business_id) & (Membership.role == "owner"))
        .count()
    )


def change_role(business_id: int, actor_id: int, user_id: int, role: str) -> None:
    if role not in ROLES:
        raise Unprocessable(f"role: one of {', '.join(ROLES)}", code="invalid_role")
    with write_transaction():
        m = Membership.get_or_none(
            (Membership.business == business_id) & (Membership.user == user_id)
        )
        if m is None:
            raise NotFound("Member not found", code="member_not_found")
        if m.role == "owner" and role != "owner" and _owner_count(business_id) == 1:
            raise Conflict("A business needs at least one owner", code="last_owner")
        if m.role == role:
            return
        Membership.update(role=role).where(Membership.id == m.id).execute()
        emit(
            LedgerEvent(
                "membership.changed",
                business_id,
                actor_id,
                {"user_id": user_id, "from": m.role, "role": role},
            )
        )


def remove_member(business_id: int, actor_id: int, user_id: int) -> None:
    with write_transaction():
        m = Membership.get_or_none(
            (Membership.business == business_id) & (Membership.user == user_id)
        )
        if m is None:
            raise NotFound("Member not found", code="member_not_found")
        if m.role == "owner" and _owner_count(business_id) == 1:
            raise Conflict("A business needs at least one owner", code="last_owner")
        Membership.delete().where(Membership.id == m.id).execute()
        emit(
            LedgerEvent(
                "membership.revoked", business_id, actor_id, {"user_id": user_id, "role": m.role}
            )
        )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(business_id: int, actor_id: int, role: str, ttl_hours: int) -> tuple[Invite, str]:
    """A single-use invitation; the clear token is returned once and only its hash is kept."""
    if role not in ROLES:
        raise Unprocessable(f"role: one of {', '.join(ROLES)}", code="invalid_role")
    token = secrets.token_urlsafe(24)
    with write_transaction():
        invite = Invite.create(
            business=business_id,
            role=role,
            token_hash=_hash(token),
            created_by=actor_id,
            expires_at=utcnow() + dt.timedelta(hours=ttl_hours),
        )
    return invite, token


def find_invite(token: str) -> Invite:
    invite = Invite.get_or_none(Invite.token_hash == _hash(token))
    if invite is None or invite.revoked_at is not None:
        raise NotFound("Invitation not found", code="invite_not_found")
    return invite


def accept_invite(token: str, user_id: int) -> Membership:
    with write_transaction():
        invite = find_invite(token)
        if invite.accepted_at is not None:
            raise Conflict("This invitation has already been used", code="invite_used")
        if invite.expires_at <= utcnow():
            raise Conflict("This invitation has expired", code="invite_expired")
        if (
            Membership.select()
            .where((Membership.user == user_id) & (Membership.business == invite.business_id))
            .exists()
        ):
            raise Conflict("You are already a member of this business", code="already_member")
        # Claim the invite first, conditionally, so two people racing for it cannot both win.
        claimed = (
            Invite.update(accepted_by=user_id, accepted_at=utcnow())
            .where((Invite.id == invite.id) & Invite.accepted_at.is_null())
            .execute()
        )
        if not claimed:
            raise Conflict("This invitation has already been used", code="invite_used")
        try:
            with write_transaction():
                m = Membership.create(user=user_id, business=invite.business_id, role=invite.role)
        except IntegrityError:
            raise Conflict(
                "You are already a member of this business", code="already_member"
            ) from None
        emit(
            LedgerEvent(
                "membership.granted",
                invite.business_id,
                user_id,
                {
                    "user_id": user_id,
                    "role": invite.role,
                    "via": "invite",
                    "invited_by": invite.created_by_id,
                },
            )
        )
        return m
