"""Bills (payables), receivables and payments (docs/contracts.md).

A payment moves created -> awaiting_approval (when required) -> submitted -> succeeded | failed
| cancelled; `out_no` is unique, the merchant order number sent to the provider, so a retried
submission can never become a second payment. Every transition is also a chain leaf. Amounts are
integer fen; due dates are Asia/Shanghai business days; timestamps naive UTC.
"""

from peewee import (
    AutoField,
    BigIntegerField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from app.db import BaseModel
from app.models.businesses import Business
from app.models.contracts import ContractRun
from app.models.ledger import Entry
from app.models.users import User

BILL_STATES = ("open", "approved", "paying", "paid", "cancelled")
RECEIVABLE_STATES = ("open", "settled", "cancelled")
PAYMENT_STATES = (
    "created",
    "awaiting_approval",
    "submitted",
    "succeeded",
    "failed",
    "cancelled",
)


class Bill(BaseModel):
    id = AutoField()
    business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
    supplier = CharField(max_length=100)
    payee = CharField(max_length=100, default="")  # provider id of the supplier (openid), if any
    amount = BigIntegerField()
    due_date = DateField()
    reference = CharField(max_length=64, default="")
    memo = CharField(max_length=200, default="")
    status = CharField(max_length=16, default="open")
    approved_by = ForeignKeyField(User, null=True, backref="+")
    entry = ForeignKeyField(Entry, null=True, backref="+")  # the payment's posting
    due_announced = DateField(null=True)  # bill.due emitted for this day
    created_by = ForeignKeyField(User, backref="+")
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = "bill"
        indexes = ((("business", "status", "due_date"), False),)


class Receivable(BaseModel):
    id = AutoField()
    business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
    customer = CharField(max_length=100)
    amount = BigIntegerField()
    due_date = DateField(null=True)
    reference = CharField(max_length=64)
    memo = CharField(max_length=200, default="")
    status = CharField(max_length=16, default="open")
    entry = ForeignKeyField(Entry, null=True, backref="+")  # the settling posting
    created_by = ForeignKeyField(User, backref="+")
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = "receivable"
        indexes = ((("business", "reference"), False),)


class Payment(BaseModel):
    id = AutoField()
    business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
    run = ForeignKeyField(ContractRun, null=True, backref="+")
    out_no = CharField(max_length=64, unique=True)
    provider = CharField(max_length=16)  # manual | wechatpay
    payee = CharField(max_length=100)
    payee_name = CharField(max_length=100, default="")
    amount = BigIntegerField()
    from_account = CharField(max_length=16)
    to_account = CharField(max_length=16)  # debited when it succeeds (payable, expense, ...)
    memo = CharField(max_length=200, default="")
    target_kind = CharField(max_length=16, default="")  # bill | claim | ""
    target_id = IntegerField(null=True)
    status = CharField(max_length=20, default="created")
    approval_roles = CharField(max_length=64, default="")  # comma-separated
    approved_by = ForeignKeyField(User, null=True, backref="+")
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True)
    provider_ref = CharField(max_length=100, default="")
    # WeChat Pay transfers: the package the payee confirms with (wx.requestMerchantTransfer)
    confirm_package = TextField(default="")
    last_error = CharField(max_length=300, default="")
    entry = ForeignKeyField(Entry, null=True, backref="+")
    business_date = DateField()  # the day the limits count it against
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = "payment"
        indexes = (
            (("business", "status"), False),
            (("status", "next_attempt_at"), False),
            (("business", "payee", "business_date"), False),
        )


class PaymentNotice(BaseModel):
    """Provider callbacks already accepted, by their notification id: a replay is refused."""

    id = AutoField()
    provider = CharField(max_length=16)
    notice_id = CharField(max_length=64)
    received_at = DateTimeField()
    body = TextField(default="")

    class Meta:
        table_name = "payment_notice"
        indexes = ((("provider", "notice_id"), True),)
