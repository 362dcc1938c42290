"""Receipts and expense claims: claim, receipt, claim_action, claim_policy, employee_payable.

Frozen copies of app/models/claims.py. The referenced tables (business, user, entry) exist since
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

    class Claim(Model):
        business = ForeignKeyField(Business, on_delete="CASCADE")
        employee = ForeignKeyField(User)
        status = CharField(max_length=16, default="draft")
        category_key = CharField(max_length=32)
        amount = BigIntegerField()
        memo = CharField(max_length=200, default="")
        project = CharField(max_length=64, default="")
        expense_date = DateField()
        tax_amount = BigIntegerField(null=True)
        flags = TextField(default="[]")
        needs_owner = BooleanField(default=False)
        first_approved_by = ForeignKeyField(User, null=True)
        first_approved_at = DateTimeField(null=True)
        decided_by = ForeignKeyField(User, null=True)
        decided_at = DateTimeField(null=True)
        reason = CharField(max_length=200, default="")
        entry = ForeignKeyField(Entry, null=True)
        payment_entry = ForeignKeyField(Entry, null=True)
        paid_by = ForeignKeyField(User, null=True)
        paid_at = DateTimeField(null=True)
        submitted_at = DateTimeField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "claim"
            indexes = (
                (("business", "status"), False),
                (("business", "employee"), False),
            )

    class Receipt(Model):
        business = ForeignKeyField(Business, on_delete="CASCADE")
        uploaded_by = ForeignKeyField(User)
        claim = ForeignKeyField(Claim, null=True, on_delete="SET NULL")
        sha256 = CharField(max_length=64)
        original_sha256 = CharField(max_length=64)
        image_key = CharField(max_length=80)
        thumb_key = CharField(max_length=80)
        width = IntegerField()
        height = IntegerField()
        size = IntegerField()
        source_format = CharField(max_length=8)
        qr_raw = TextField(null=True)
        kind = CharField(max_length=2, null=True)
        invoice_code = CharField(max_length=12, null=True)
        invoice_number = CharField(max_length=20, null=True)
        invoice_key = CharField(max_length=40, null=True)
        amount = BigIntegerField(null=True)
        amount_basis = CharField(max_length=24, default="unknown")
        invoice_date = DateField(null=True)
        check_code = CharField(max_length=32, null=True)
        seller = CharField(max_length=100, default="")
        buyer_tax_id = CharField(max_length=20, null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "receipt"
            indexes = (
                (("business", "invoice_key"), False),
                (("business", "sha256"), False),
                (("business", "original_sha256"), False),
            )

    class ClaimAction(Model):
        claim = ForeignKeyField(Claim, on_delete="CASCADE")
        actor = ForeignKeyField(User)
        action = CharField(max_length=16)
        reason = CharField(max_length=200, default="")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "claim_action"

    class ClaimPolicy(Model):
        business = ForeignKeyField(Business, primary_key=True, on_delete="CASCADE")
        settings = TextField(default="{}")
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "claim_policy"

    class EmployeePayable(Model):
        business = ForeignKeyField(Business, on_delete="CASCADE")
        user = ForeignKeyField(User)
        account_code = CharField(max_length=16)

        class Meta:
            database = db
            table_name = "employee_payable"
            indexes = ((("business", "user"), True),)

    db.create_tables([Claim, Receipt, ClaimAction, ClaimPolicy, EmployeePayable])


def down(migrator, db):
    for table in ("employee_payable", "claim_policy", "claim_action", "receipt", "claim"):
        migrator.migrate(migrator.drop_table(table))
