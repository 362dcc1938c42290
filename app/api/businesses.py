"""Businesses, members and invitations."""

from __future__ import annotations

import io
from typing import Any

import qrcode
from flask import current_app, g, request, send_file
from flask.wrappers import Response

from app.api.routing import route
from app.api.schemas import BusinessBody, EmptyBody, InviteBody, MemberBody
from app.clock import iso_utc
from app.models import Business
from app.services import businesses


@route(
    "/businesses",
    "POST",
    summary="Create a business; the caller becomes its owner",
    tag="businesses",
    body=BusinessBody,
    status=201,
)
def create_business(body: BusinessBody) -> dict[str, Any]:
    b = businesses.create_business(
        g.user_id,
        body.name,
        body.uscc,
        body.taxpayer_type,
        body.industry,
        body.region,
        body.accept_uscc_check_mismatch,
    )
    return businesses.business_dict(b, "owner")


@route(
    "/businesses/<int:business_id>", "GET", summary="One business", tag="businesses", action="read"
)
def get_business(business_id: int) -> dict[str, Any]:
    return businesses.business_dict(Business.get_by_id(business_id), g.membership.role)


@route(
    "/businesses/<int:business_id>/members",
    "GET",
    summary="Members and their roles",
    tag="businesses",
    action="read",
)
def list_members(business_id: int) -> dict[str, Any]:
    return {"items": businesses.list_members(business_id)}


@route(
    "/businesses/<int:business_id>/members/<int:user_id>/role",
    "POST",
    summary="Change a member's role",
    tag="businesses",
    body=MemberBody,
    action="manage_members",
)
def change_member_role(business_id: int, user_id: int, body: MemberBody) -> dict[str, Any]:
    businesses.change_role(business_id, g.user_id, user_id, body.role)
    return {"user_id": user_id, "role": body.role}


@route(
    "/businesses/<int:business_id>/members/<int:user_id>/remove",
    "POST",
    summary="Remove a member",
    tag="businesses",
    body=EmptyBody,
    action="manage_members",
)
def remove_member(business_id: int, user_id: int, body: EmptyBody) -> dict[str, Any]:
    businesses.remove_member(business_id, g.user_id, user_id)
    return {"user_id": user_id, "removed": True}


def _invite_link(token: str) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    return f"{base.rstrip('/')}/invite/{token}"


@route(
    "/businesses/<int:business_id>/invites",
    "POST",
    summary="Invite someone for a role (link + QR code)",
    tag="businesses",
    body=InviteBody,
    action="manage_members",
    status=201,
)
def create_invite(business_id: int, body: InviteBody) -> dict[str, Any]:
    """The token is returned once; only its hash is stored. Single use; expires."""
    invite, token = businesses.create_invite(
        business_id, g.user_id, body.role, current_app.config["INVITE_TTL_HOURS"]
    )
    return {
        "id": invite.id,
        "role": invite.role,
        "token": token,
        "link": _invite_link(token),
        "qr_png_url": f"/api/v1/invites/{token}/qr.png",
        "expires_at": iso_utc(invite.expires_at),
    }


@route(
    "/invites/<token>",
    "GET",
    summary="What an invitation is for (before accepting)",
    tag="businesses",
    auth=False,
)
def show_invite(token: str) -> dict[str, Any]:
    invite = businesses.find_invite(token)
    b = Business.get_by_id(invite.business_id)
    return {
        "business": {"id": b.id, "name": b.name},
        "role": invite.role,
        "expires_at": iso_utc(invite.expires_at),
        "accepted": invite.accepted_at is not None,
    }


@route(
    "/invites/<token>/qr.png",
    "GET",
    summary="The invitation link as a QR code PNG",
    tag="businesses",
    auth=False,
    content_type="image/png",
)
def invite_qr(token: str) -> Response:
    businesses.find_invite(token)
    img = qrcode.make(_invite_link(token), box_size=8, border=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf.seek(0)
    resp = send_file(buf, mimetype="image/png")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@route(
    "/invites/<token>/accept",
    "POST",
    summary="Accept an invitation; joins the business",
    tag="businesses",
    body=EmptyBody,
    status=201,
)
def accept_invite(token: str, body: EmptyBody) -> dict[str, Any]:
    m = businesses.accept_invite(token, g.user_id)
    b = Business.get_by_id(m.business_id)
    return businesses.business_dict(b, m.role)
