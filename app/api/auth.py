"""Register, log in (password or WeChat), refresh, log out, and who am I."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from flask_jwt_extended import create_access_token

from app.api.routing import route
from app.api.schemas import LoginBody, LogoutBody, RefreshBody, RegisterBody, WeChatLoginBody
from app.errors import Unauthorized
from app.models import AuthSession, User
from app.services import auth
from app.services.businesses import memberships_of


def client_ip() -> str:
    # Behind a proxy, run gunicorn with --forwarded-allow-ips so remote_addr is the client's.
    return request.remote_addr or "unknown"


def _tokens(session: AuthSession, refresh_token: str, user: User | None = None) -> dict[str, Any]:
    minutes = current_app.config["JWT_ACCESS_MINUTES"]
    user = user or User.get_by_id(session.user_id)
    # The display name rides in the token so responses can name the author without a query.
    claims = {"sid": session.id, "name": user.display_name}
    access = create_access_token(identity=str(session.user_id), additional_claims=claims)
    return {
        "access_token": access,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": minutes * 60,
        "user_id": session.user_id,
    }


def _login(user: User) -> dict[str, Any]:
    session, token = auth.start_session(user, request.headers.get("User-Agent", ""))
    return _tokens(session, token, user)


@route(
    "/auth/register",
    "POST",
    summary="Create an account",
    tag="auth",
    body=RegisterBody,
    auth=False,
    status=201,
)
def register(body: RegisterBody) -> dict[str, Any]:
    user = auth.register(body.username, body.password, body.phone, body.display_name or "")
    return _login(user)


@route(
    "/auth/login",
    "POST",
    summary="Log in with username or phone and password",
    tag="auth",
    body=LoginBody,
    auth=False,
    errors=[401, 429],
)
def login(body: LoginBody) -> dict[str, Any]:
    ident = body.phone if body.phone is not None else body.username
    user = auth.authenticate(
        ident or "", body.password, by_phone=body.phone is not None, client_ip=client_ip()
    )
    return _login(user)


@route(
    "/auth/wechat",
    "POST",
    summary="Log in with a wx.login() code",
    tag="auth",
    body=WeChatLoginBody,
    auth=False,
    errors=[401, 429, 502, 503],
)
def wechat_login(body: WeChatLoginBody) -> dict[str, Any]:
    """Exchanges the code at WeChat's auth.code2Session; finds or creates the user by openid."""
    provider = current_app.extensions["suanpan.wechat"]
    identity = provider.code2session(body.code)
    user = auth.find_or_create_wechat_user(identity.openid, identity.unionid, identity.dev)
    out = _login(user)
    if identity.dev:
        out["provider"] = provider.label
    return out


@route(
    "/auth/refresh",
    "POST",
    summary="Swap a refresh token for new tokens",
    tag="auth",
    body=RefreshBody,
    auth=False,
    errors=[401],
)
def refresh(body: RefreshBody) -> dict[str, Any]:
    session, token = auth.rotate_refresh_token(body.refresh_token)
    return _tokens(session, token)


@route(
    "/auth/logout",
    "POST",
    summary="Revoke this session (access and refresh tokens)",
    tag="auth",
    body=LogoutBody,
)
def logout(body: LogoutBody) -> dict[str, Any]:
    if g.session_id is None:
        raise Unauthorized("Token has no session", code="invalid_token")
    auth.revoke_session(int(g.session_id))
    return {"logged_out": True}


@route("/me", "GET", summary="The caller, with their businesses and roles", tag="auth")
def me() -> dict[str, Any]:
    user = User.get_by_id(g.user_id)
    return {
        "id": user.id,
        "username": user.username,
        "phone": user.phone,
        "display_name": user.display_name,
        "wechat_linked": user.wechat_openid is not None,
        "is_dev_account": user.is_dev_account,
        "businesses": memberships_of(user.id),
    }
