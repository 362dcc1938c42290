"""The books: chart of accounts, categories for quick records, journal entries, closed months.

Amounts are integer fen (BigIntegerField). Posted entries and their lines are never updated or
deleted; database triggers (migration 0001) refuse it even behind the service layer.
"""

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from app.clock import utcnow
from app.db import BaseModel
from app.models.businesses import Business
from app.models.users import User

ACCOUNT_TYPES = ("asset", "liability", "equity", "cost", "revenue", "expense")


class Account(BaseModel):
    id = AutoField()
    business = ForeignKeyField(Business, backref="accounts", on_delete="CASCADE")
    code = CharField(max_length=16)
    name = CharField(max_length=64)
    name_en = CharField(max_length=64, default="")
    type = CharField(max_length=16)
    # 'debit' or 'credit': the side on which a balance is normally carried.
    normal_side = CharField(max_length=6)
    parent_code = CharField(max_length=16, null=True)
    is_active = BooleanField(default=True)
    # True for the standard chart (小企业会计准则); False for a business's own sub-accounts.
    is_standard = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("business", "code"), True),)


class Category(BaseModel):
    """A quick-record category: a stable key mapped to the account it books to."""

    id = AutoField()
    business = ForeignKeyField(Business, backref="categories", on_delete="CASCADE")
    key = CharField(max_length=32)
    kind = CharField(max_length=8)  # income | expense
    name = CharField(max_length=32)
    name_en = CharField(max_length=32)
    icon = CharField(max_length=32, default="")
    account_code = CharField(max_length=16)
    sort_order = IntegerField(default=0)
    is_active = BooleanField(default=True)

    class Meta:
        indexes = ((("business", "key"), True),)


class Entry(BaseModel):
    id = AutoField()
    business = ForeignKeyField(Business, backref="entries", on_delete="CASCADE")
    # Per-business voucher number (记字第 n 号), assigned when the entry is created.
    number = IntegerField()
    date = DateField()
    memo = CharField(max_length=200, default="")
    status = CharField(max_length=8)  # draft | posted
    source = CharField(max_length=16, default="manual")  # manual | quick | reversal | demo | ...
    category_key = CharField(max_length=32, null=True)
    paid_with = CharField(max_length=16, null=True)
    # A reversal points at the entry it reverses; unique, so an entry is reversed at most once.
    reverses = ForeignKeyField(
        "self", null=True, unique=True, backref="reversals", on_delete="RESTRICT"
    )
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField(default=utcnow)
    posted_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    posted_at = DateTimeField(null=True)

    class Meta:
        indexes = (
            (("business", "number"), True),
            (("business", "status", "date"), False),
        )


class EntryLine(BaseModel):
    id = AutoField()
    entry = ForeignKeyField(Entry, backref="lines", on_delete="CASCADE")
    line_no = IntegerField()
    account = ForeignKeyField(Account, backref="lines", on_delete="RESTRICT")
    debit = BigIntegerField(default=0)
    credit = BigIntegerField(default=0)
    memo = CharField(max_length=200, default="")

    class Meta:
        indexes = ((("entry", "line_no"), True),)


class ClosedPeriod(BaseModel):
    """A closed month: nothing may be posted dated inside it until it is reopened."""

    id = AutoField()
    business = ForeignKeyField(Business, backref="closed_periods", on_delete="CASCADE")
    month = CharField(max_length=7)  # YYYY-MM
    closed_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    closed_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("business", "month"), True),)
