"""People and their login state.

Timestamps are naive datetimes in UTC throughout the schema (see app/clock.py).
"""

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from app.clock import utcnow
from app.db import BaseModel


class User(BaseModel):
    id = AutoField()
    username = CharField(max_length=64, unique=True, null=True)
    phone = CharField(max_length=20, unique=True, null=True)
    password_hash = CharField(max_length=255, null=True)
    display_name = CharField(max_length=64, default="")
    wechat_openid = CharField(max_length=128, unique=True, null=True)
    wechat_unionid = CharField(max_length=128, null=True, index=True)
    # True for accounts created by the development WeChat provider, so they are recognisable.
    is_dev_account = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)


class AuthSession(BaseModel):
    """One login on one device. Access tokens carry its id; logout revokes it at once."""

    id = AutoField()
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)
    user_agent = CharField(max_length=255, default="")


class RefreshToken(BaseModel):
    """Rotating refresh tokens, stored as SHA-256 only.

    Each use replaces the token; presenting a replaced token again means it was stolen, so the
    whole session is revoked (OAuth 2.0 Security BCP, refresh token rotation).
    """

    id = AutoField()
    session = ForeignKeyField(AuthSession, backref="refresh_tokens", on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)


class LoginThrottle(BaseModel):
    """Failed-login counters per account and per client IP (key 'user:<name>' / 'ip:<addr>')."""

    key = CharField(max_length=160, primary_key=True)
    failures = IntegerField(default=0)
    window_start = DateTimeField(default=utcnow)
