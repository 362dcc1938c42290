"""Businesses, who belongs to them (with a role), and invitations."""

from peewee import AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField

from app.clock import utcnow
from app.db import BaseModel
from app.models.users import User

ROLES = ("owner", "bookkeeper", "employee", "viewer")
TAXPAYER_TYPES = ("small_scale", "general")


class Business(BaseModel):
    id = AutoField()
    name = CharField(max_length=100)
    uscc = CharField(max_length=18, index=True)
    # False when the USCC fails its GB 32100-2015 check character but the owner confirmed it
    # (early pilot codes exist whose check character does not match; china-facts §7.3).
    uscc_check_ok = BooleanField(default=True)
    taxpayer_type = CharField(max_length=16)
    industry = CharField(max_length=64, default="")
    region = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")


class Membership(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    business = ForeignKeyField(Business, backref="memberships", on_delete="CASCADE")
    role = CharField(max_length=16)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "business"), True),)


class Invite(BaseModel):
    """A single-use, expiring invitation; only the token's SHA-256 is stored."""

    id = AutoField()
    business = ForeignKeyField(Business, backref="invites", on_delete="CASCADE")
    role = CharField(max_length=16)
    token_hash = CharField(max_length=64, unique=True)
    created_by = ForeignKeyField(User, on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    accepted_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    accepted_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
