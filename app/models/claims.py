"""Receipts and expense claims (issue: receipt scanning and expense approvals).

A receipt is one uploaded photo (原始凭证), stored content-addressed, with what its fapiao QR said.
A claim groups one or more receipts of one employee and moves draft -> submitted -> approved ->
paid (or returned for changes, or rejected). Amounts are integer fen; timestamps naive UTC;
invoice dates are the dates printed on the invoice.
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
    TextField,
)

from app.clock import utcnow
from app.db import BaseModel
from app.models.businesses import Business
from app.models.ledger import Entry
from app.models.users import User

CLAIM_STATES = ("draft", "submitted", "returned", "approved", "rejected", "paid")


class Claim(BaseModel):
    id = AutoField()
    business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
    employee = ForeignKeyField(User, backref="+")
    status = CharField(max_length=16, default="draft")
    category_key = CharField(max_length=32)
    amount = BigIntegerField()  # fen, what the employee is owed
    memo = CharField(max_length=200, default="")
    project = CharField(max_length=64, default="")
    expense_date = DateField()
    # Input VAT (fen) booked to 22210101 on approval; set by the approver or derived from a
    # legacy special invoice. None: no input VAT.
    tax_amount = BigIntegerField(null=True)
    # Flags as last computed (JSON list), so the queue can show them without recomputing.
    flags = TextField(default="[]")
    # Over the approval limit a bookkeeper's approval is the first of two steps.
    needs_owner = BooleanField(default=False)
    first_approved_by = ForeignKeyField(User, null=True, backref="+")
    first_approved_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, backref="+")
    decided_at = DateTimeField(null=True)
    reason = CharField(max_length=200, default="")
    entry = ForeignKeyField(Entry, null=True, backref="+")
    payment_entry = ForeignKeyField(Entry, null=True, backref="+")
    paid_by = ForeignKeyField(User, null=True, backref="+")
    paid_at = DateTimeField(null=True)
    submitted_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("business", "status"), False),
            (("business", "employee"), False),
        )


class Receipt(BaseModel):
    id = AutoField()
    business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
    uploaded_by = ForeignKeyField(User, backref="+")
    claim = ForeignKeyField(Claim, null=True, backref="receipts", on_delete="SET NULL")
    # SHA-256 of the stored (cleaned) JPEG, and of the bytes as uploaded.
    sha256 = CharField(max_length=64)
    original_sha256 = CharField(max_length=64)
    image_key = CharField(max_length=80)
    thumb_key = CharField(max_length=80)
    width = IntegerField()
    height = IntegerField()
    size = IntegerField()
    source_format = CharField(max_length=8)
    qr_raw = TextField(null=True)  # kept verbatim, even when it is not a fapiao
    kind = CharField(max_length=2, null=True)
    invoice_code = CharField(max_length=12, null=True)
    invoice_number = CharField(max_length=20, null=True)
    invoice_key = CharField(max_length=40, null=True)
    amount = BigIntegerField(null=True)  # fen, as printed in the QR (or typed)
    amount_basis = CharField(max_length=24, default="unknown")
    invoice_date = DateField(null=True)
    check_code = CharField(max_length=32, null=True)
    seller = CharField(max_length=100, default="")
    buyer_tax_id = CharField(max_length=20, null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("business", "invoice_key"), False),
            (("business", "sha256"), False),
            (("business", "original_sha256"), False),
        )


class ClaimAction(BaseModel):
    """The claim's history: who did what, when and why (also on the chain)."""

    id = AutoField()
    claim = ForeignKeyField(Claim, on_delete="CASCADE", backref="actions")
    actor = ForeignKeyField(User, backref="+")
    action = CharField(max_length=16)  # created|submitted|approved|rejected|returned|reimbursed
    reason = CharField(max_length=200, default="")
    created_at = DateTimeField(default=utcnow)


class ClaimPolicy(BaseModel):
    """Per-business approval rules and policy flags (JSON settings, defaults in the service)."""

    business = ForeignKeyField(Business, primary_key=True, on_delete="CASCADE", backref="+")
    settings = TextField(default="{}")
    updated_at = DateTimeField(default=utcnow)


class EmployeePayable(BaseModel):
    """Which account holds what the business owes an employee (其他应付款—<employee>)."""

    id = AutoField()
    business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
    user = ForeignKeyField(User, backref="+")
    account_code = CharField(max_length=16)

    class Meta:
        indexes = ((("business", "user"), True),)
