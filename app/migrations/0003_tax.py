"""Tax warnings: tax profiles, warnings, the daily run log, invoice references on entries, WeChat
one-time subscription credits and the notification log.

Frozen copies of app/models/tax.py. The referenced tables (business, entry, user) exist since
0001; they are declared here only as foreign-key targets and are not created.
"""

from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Business(Model):
        class Meta:
            database = db
            table_name = "business"

    class Entry(Model):
        class Meta:
            database = db
            table_name = "entry"

    class TaxProfile(Model):
        business = ForeignKeyField(Business, unique=True, on_delete="CASCADE")
        vat_filing_basis = CharField(max_length=16)
        cit_payer = BooleanField(default=True)
        vat_burden_benchmark_bp = IntegerField(null=True)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "tax_profile"

    class TaxWarning(Model):
        business = ForeignKeyField(Business, on_delete="CASCADE")
        rule_id = CharField(max_length=80)
        period_key = CharField(max_length=48)
        severity = CharField(max_length=8)
        state = CharField(max_length=16)
        pack_id = CharField(max_length=64)
        pack_version = CharField(max_length=32)
        figures = TextField()
        entry_ids = TextField()
        unconfirmed = BooleanField(default=False)
        first_seen_at = DateTimeField()
        last_seen_at = DateTimeField()
        as_of = DateField()
        acknowledged_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        acknowledged_at = DateTimeField(null=True)
        resolved_at = DateTimeField(null=True)
        notified_severity = CharField(max_length=8, default="")

        class Meta:
            database = db
            table_name = "tax_warning"
            indexes = (
                (("business", "rule_id", "period_key"), True),
                (("business", "state"), False),
            )

    class TaxRun(Model):
        slot = CharField(max_length=32, unique=True)
        kind = CharField(max_length=16)
        state = CharField(max_length=16)
        as_of = DateField()
        started_at = DateTimeField()
        finished_at = DateTimeField(null=True)
        businesses = IntegerField(default=0)
        opened = IntegerField(default=0)
        updated = IntegerField(default=0)
        resolved = IntegerField(default=0)
        failures = IntegerField(default=0)
        message = TextField(default="")

        class Meta:
            database = db
            table_name = "tax_run"

    class EntryInvoice(Model):
        business = ForeignKeyField(Business, on_delete="CASCADE")
        entry = ForeignKeyField(Entry, on_delete="CASCADE")
        invoice_key = CharField(max_length=40)
        amount = BigIntegerField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "entry_invoice"
            indexes = (
                (("entry", "invoice_key"), True),
                (("business", "invoice_key"), False),
            )

    class WeChatSubscription(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        template_id = CharField(max_length=128)
        credits = IntegerField(default=0)
        accepted_total = IntegerField(default=0)
        consumed_total = IntegerField(default=0)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "wechat_subscription"
            indexes = ((("user", "template_id"), True),)

    class TaxNotification(Model):
        warning = ForeignKeyField(TaxWarning, on_delete="CASCADE")
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        channel = CharField(max_length=16)
        severity = CharField(max_length=8)
        status = CharField(max_length=16)
        detail = CharField(max_length=200, default="")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "tax_notification"

    class TaxMonthSales(Model):
        business = ForeignKeyField(Business, on_delete="CASCADE")
        month = CharField(max_length=7)
        amount = BigIntegerField(default=0)

        class Meta:
            database = db
            table_name = "tax_month_sales"
            primary_key = CompositeKey("business", "month")

    db.create_tables(
        [
            TaxProfile,
            TaxWarning,
            TaxRun,
            EntryInvoice,
            WeChatSubscription,
            TaxNotification,
            TaxMonthSales,
        ]
    )
    # Existing books: net sales per business and month from posted lines on 5001/5051.
    month = (
        "to_char(e.date, 'YYYY-MM')"
        if isinstance(db, PostgresqlDatabase)
        else "strftime('%Y-%m', e.date)"
    )
    db.execute_sql(
        "INSERT INTO tax_month_sales (business_id, month, amount) "
        f"SELECT e.business_id, {month}, SUM(l.credit - l.debit) "
        "FROM entry_line l JOIN entry e ON e.id = l.entry_id JOIN account a ON a.id = l.account_id "
        "WHERE e.status = 'posted' AND substr(a.code, 1, 4) IN ('5001', '5051') "
        f"GROUP BY e.business_id, {month}"
    )


def down(migrator, db):
    for table in (
        "tax_month_sales",
        "tax_notification",
        "wechat_subscription",
        "entry_invoice",
        "tax_run",
        "tax_warning",
        "tax_profile",
    ):
        migrator.migrate(migrator.drop_table(table))
