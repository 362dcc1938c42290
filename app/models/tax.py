"""Tax warnings (issue: scheduled tax-warning rules): per-business tax settings, the warnings
the rules raise, the run log of the daily job, invoice references on entries, and the WeChat
one-time subscription credits that notifications consume.

Amounts are integer fen; timestamps naive UTC (app/clock.py). Figures are stored as JSON text
so a warning explains itself exactly as it was computed, even after the rule pack changes.
"""

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
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

FILING_BASES = ("monthly", "quarterly")
WARNING_STATES = ("open", "acknowledged", "resolved")
SEVERITIES = ("warn", "alert")


class TaxProfile(BaseModel):
    """What the rules need to know about a business that the books do not say."""

    id = AutoField()
    business = ForeignKeyField(Business, unique=True, on_delete="CASCADE", backref="+")
    # VAT tax period (small-scale taxpayers may file quarterly; general taxpayers monthly).
    vat_filing_basis = CharField(max_length=16)
    # Pays enterprise income tax (False for 个体工商户, who pay individual income tax instead).
    cit_payer = BooleanField(default=True)
    # Industry VAT-burden benchmark in basis points (150 = 1.50%); None: the pack's default for
    # the business's industry. There is no official national table (china-facts §6).
    vat_burden_benchmark_bp = IntegerField(null=True)
    updated_at = DateTimeField(default=utcnow)


class TaxWarning(BaseModel):
    """One rule firing for one business and one period; never duplicated (unique index)."""

    id = AutoField()
    business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
    rule_id = CharField(max_length=80)
    period_key = CharField(max_length=48)
    severity = CharField(max_length=8)  # warn | alert
    state = CharField(max_length=16)  # open | acknowledged | resolved
    pack_id = CharField(max_length=64)
    pack_version = CharField(max_length=32)
    figures = TextField()  # JSON
    entry_ids = TextField()  # JSON list
    unconfirmed = BooleanField(default=False)
    first_seen_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    as_of = DateField()
    acknowledged_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    acknowledged_at = DateTimeField(null=True)
    resolved_at = DateTimeField(null=True)
    # The highest severity already sent through the notifier channels ('' = none yet).
    notified_severity = CharField(max_length=8, default="")

    class Meta:
        indexes = (
            (("business", "rule_id", "period_key"), True),
            (("business", "state"), False),
        )


class TaxRun(BaseModel):
    """The daily job's log. The unique slot is also the lock: one run per scheduled time, however
    many schedulers are started (a second one loses the insert and skips)."""

    id = AutoField()
    slot = CharField(max_length=32, unique=True)  # scheduled fire time, ISO UTC, or manual:<uuid>
    kind = CharField(max_length=16)  # scheduled | catch_up | manual
    state = CharField(max_length=16)  # running | done | failed
    as_of = DateField()
    started_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    businesses = IntegerField(default=0)
    opened = IntegerField(default=0)
    updated = IntegerField(default=0)
    resolved = IntegerField(default=0)
    failures = IntegerField(default=0)
    message = TextField(default="")


class TaxMonthSales(BaseModel):
    """Net sales (credits minus debits on 5001/5051) per business and month, kept up to date
    by the post-posting check in the posting's own transaction, so the threshold rules read a
    handful of rows instead of the business's lines. The daily run rewrites it from the books,
    which stay the source of truth."""

    business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
    month = CharField(max_length=7)  # YYYY-MM
    amount = BigIntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("business", "month")


class EntryInvoice(BaseModel):
    """A fapiao presented for an entry: 发票代码 + 发票号码, or the 20-digit 数电票 number.

    Only the reference is kept here (the receipts issue will add images and QR data); it is what
    the "expense without invoice" and "fapiao presented twice" rules read.
    """

    id = AutoField()
    business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
    entry = ForeignKeyField(Entry, on_delete="CASCADE", backref="+")
    invoice_key = CharField(max_length=40)  # "<code>-<number>" or the 20-digit number
    amount = BigIntegerField(null=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("entry", "invoice_key"), True),
            (("business", "invoice_key"), False),
        )


class WeChatSubscription(BaseModel):
    """One-time subscription credits per user and template (china-facts §10): each `accept`
    from wx.requestSubscribeMessage allows exactly one later message."""

    id = AutoField()
    user = ForeignKeyField(User, on_delete="CASCADE", backref="+")
    template_id = CharField(max_length=128)
    credits = IntegerField(default=0)
    accepted_total = IntegerField(default=0)
    consumed_total = IntegerField(default=0)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "wechat_subscription"
        indexes = ((("user", "template_id"), True),)


class TaxNotification(BaseModel):
    """Every notification attempt, per channel: sent, skipped (no credit, no openid) or failed."""

    id = AutoField()
    warning = ForeignKeyField(TaxWarning, on_delete="CASCADE", backref="+")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    channel = CharField(max_length=16)  # in_app | wechat
    severity = CharField(max_length=8)
    status = CharField(max_length=16)  # sent | skipped | failed
    detail = CharField(max_length=200, default="")
    created_at = DateTimeField(default=utcnow)
