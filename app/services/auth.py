"""Accounts, passwords, sessions and refresh-token rotation.

Access tokens (JWT) are minted by the HTTP layer; this module owns what they refer to: a session
that logout revokes, and opaque refresh tokens stored only as SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from peewee import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.clock import utcnow
from app.db import fetchone, write_transaction
from app.errors import Conflict, Unauthorized, Unprocessable
from app.models import AuthSession, RefreshToken, User
from app.services import throttle

USERNAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{2,31}")
PHONE_RE = re.compile(r"1[3-9][0-9]{9}")  # mainland mobile numbers


@dataclass
class AuthSettings:
    password_method: str = "scrypt"
    refresh_days: int = 30
    login_window: int = 900
    max_failures_account: int = 5
    max_failures_ip: int = 30


settings = AuthSettings()
# A hash to compare against when the user does not exist, so timing does not reveal that.
_DUMMY_HASH: str | None = None


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validate_password(password: str) -> None:
    if len(password) < 8:
        raise Unprocessable("password: at least 8 characters", code="weak_password")
    if len(password) > 128:
        raise Unprocessable("password: at most 128 characters", code="weak_password")
    if password.isdigit() or password.isalpha():
        raise Unprocessable("password: mix letters with digits or symbols", code="weak_password")


def register(
    username: str, password: str, phone: str | None = None, display_name: str = ""
) -> User:
    if not USERNAME_RE.fullmatch(username):
        raise Unprocessable(
            "username: 3-32 characters, starting with a letter (letters, digits, _ . -)",
            code="invalid_username",
        )
    if phone is not None and not PHONE_RE.fullmatch(phone):
        raise Unprocessable(
            "phone: expected an 11-digit mainland mobile number", code="invalid_phone"
        )
    validate_password(password)
    pw_hash = generate_password_hash(password, method=settings.password_method)
    try:
        with write_transaction():
            return User.create(
                username=username,
                phone=phone,
                password_hash=pw_hash,
                display_name=display_name or username,
            )
    except IntegrityError:
        taken = "phone" if phone and User.get_or_none(User.phone == phone) else "username"
        raise Conflict(f"{taken} is already registered", code=f"{taken}_taken") from None


def authenticate(identifier: str, password: str, *, by_phone: bool, client_ip: str) -> User:
    """Check a password with per-account and per-IP throttling."""
    global _DUMMY_HASH
    account_key = f"{'phone' if by_phone else 'user'}:{identifier.lower()}"
    ip_key = f"ip:{client_ip}"
    throttle.check(
        {account_key: settings.max_failures_account, ip_key: settings.max_failures_ip},
        settings.login_window,
    )
    user = (
        User.get_or_none(User.phone == identifier)
        if by_phone
        else User.get_or_none(User.username == identifier)
    )
    if (
        user is not None
        and user.password_hash
        and check_password_hash(user.password_hash, password)
    ):
        throttle.reset(account_key)
        return user
    if user is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = generate_password_hash("x" * 12, method=settings.password_method)
        check_password_hash(_DUMMY_HASH, password)
    throttle.record_failure([account_key, ip_key], settings.login_window)
    raise Unauthorized("Wrong username/phone or password", code="invalid_credentials")


def start_session(user: User, user_agent: str = "") -> tuple[AuthSession, str]:
    """A new login: a session plus its first refresh token (returned in clear, once)."""
    token = secrets.token_urlsafe(32)
    with write_transaction():
        session = AuthSession.create(user=user, user_agent=user_agent[:255])
        RefreshToken.create(
            session=session,
            token_hash=_hash_token(token),
            expires_at=utcnow() + dt.timedelta(days=settings.refresh_days),
        )
    return session, token


def rotate_refresh_token(token: str) -> tuple[AuthSession, str]:
    """Swap a refresh token for a new one. Reusing a spent token revokes the whole session."""
    now = utcnow()
    row = (
        RefreshToken.select(RefreshToken, AuthSession)
        .join(AuthSession)
        .where(RefreshToken.token_hash == _hash_token(token))
        .first()
    )
    if row is None or row.session.revoked_at is not None or row.expires_at <= now:
        raise Unauthorized(
            "Refresh token is invalid, expired or revoked", code="invalid_refresh_token"
        )
    new_token = secrets.token_urlsafe(32)
    with write_transaction():
        # Claim the token atomically: of two concurrent uses only one can flip used_at.
        claimed = (
            RefreshToken.update(used_at=now)
            .where((RefreshToken.id == row.id) & RefreshToken.used_at.is_null())
            .execute()
        )
        if claimed:
            RefreshToken.create(
                session=row.session,
                token_hash=_hash_token(new_token),
                expires_at=now + dt.timedelta(days=settings.refresh_days),
            )
    if not claimed:
        # A spent token came back: someone else holds a copy. End the session for everyone.
        revoke_session(row.session_id)
        raise Unauthorized(
            "Refresh token was already used; the session has been revoked",
            code="refresh_token_reused",
        )
    return row.session, new_token


def session_active(session_id: int) -> bool:
    """Whether a session is still logged in (one fixed query)."""
    return (
        fetchone('SELECT 1 FROM "auth_session" WHERE "id" = ? AND "revoked_at" IS NULL', session_id)
        is not None
    )


_SESSION = 'SELECT 1 FROM "auth_session" WHERE "id" = ? AND "user_id" = ? AND "revoked_at" IS NULL'
_SESSION_AND_ROLE = (
    'SELECT m."role" FROM "auth_session" s LEFT JOIN "membership" m '
    'ON m."user_id" = s."user_id" AND m."business_id" = ? '
    'WHERE s."id" = ? AND s."user_id" = ? AND s."revoked_at" IS NULL'
)


def authorize(
    session_id: int, user_id: int, business_id: int | None = None, action: str | None = None
):  # type: ignore[no-untyped-def]
    """Checked on every authenticated request, from the database (never cached, so a logout
    takes effect at once in every worker), in one query: the token's session is the user's and
    is not revoked (401 token_revoked), and, for a business route, the caller's role there
    allows `action`: not a member is 404, a role that is not enough is 403, exactly as
    `businesses.require_member`. Returns the `Member` for a business route, else None."""
    from app.services.businesses import member_as

    if business_id is None:
        if fetchone(_SESSION, session_id, user_id) is None:
            raise _revoked()
        return None
    row = fetchone(_SESSION_AND_ROLE, business_id, session_id, user_id)
    if row is None:
        raise _revoked()
    return member_as(user_id, business_id, row[0], action or "read")


def _revoked() -> Unauthorized:
    return Unauthorized("This session has been logged out", code="token_revoked")


def revoke_session(session_id: int) -> None:
    with write_transaction():
        AuthSession.update(revoked_at=utcnow()).where(
            (AuthSession.id == session_id) & AuthSession.revoked_at.is_null()
        ).execute()


def find_or_create_wechat_user(openid: str, unionid: str | None, dev: bool) -> User:
    with write_transaction():
        user = User.get_or_none(User.wechat_openid == openid)
        if user is None and unionid:
            user = User.get_or_none(User.wechat_unionid == unionid)
            if user is not None and user.wechat_openid is None:
                User.update(wechat_openid=openid).where(User.id == user.id).execute()
        if user is None:
            suffix = openid[-6:]
            user = User.create(
                wechat_openid=openid,
                wechat_unionid=unionid,
                display_name=("[DEV] " if dev else "") + f"微信用户{suffix}",
                is_dev_account=dev,
            )
        elif unionid and user.wechat_unionid != unionid:
            User.update(wechat_unionid=unionid).where(User.id == user.id).execute()
        return user
