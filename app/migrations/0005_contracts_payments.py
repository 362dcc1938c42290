"""Rule contracts and payments: contract, contract_version, contract_run, contract_cursor,
bill, receivable, payment, payment_notice.

Frozen copies of app/models/contracts.py and app/models/payments.py. The referenced tables
(business, user, entry) exist since 0001; they are declared here only as foreign-key targets.
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

    class Contract(Model):
        id = AutoField()
        business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
        name = CharField(max_length=100)
        # Conflicts on one event: lower number runs first; ties broken by contract id.
        priority = IntegerField(default=100)
        enabled = BooleanField(default=False)
        deployed_version = IntegerField(null=True)  # the version number that runs when enabled
        deployed_by = ForeignKeyField(User, null=True, backref="+")  # runs act as this user
        deployed_leaf = BigIntegerField(null=True)  # fires only on later leaves
        last_period = CharField(max_length=10, default="")  # schedule: last period announced
        template = CharField(max_length=32, default="")
        created_by = ForeignKeyField(User, backref="+")
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "contract"
            indexes = ((("business", "enabled"), False),)

    class ContractVersion(Model):
        id = AutoField()
        contract = ForeignKeyField(Contract, on_delete="CASCADE", backref="+")
        business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
        version = IntegerField()
        document = TextField()  # canonical JSON
        hash = CharField(max_length=64)  # hex SHA-256 of `document`
        created_by = ForeignKeyField(User, backref="+")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "contract_version"
            indexes = ((("contract", "version"), True),)

    class ContractRun(Model):
        id = AutoField()
        business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
        contract = ForeignKeyField(Contract, on_delete="CASCADE", backref="+")
        version = ForeignKeyField(ContractVersion, backref="+")
        trigger_leaf = BigIntegerField()  # index of the triggering event's leaf
        trigger_hash = CharField(max_length=64)  # its leaf hash (hex)
        event_type = CharField(max_length=32)
        decision = CharField(max_length=16)
        reason = CharField(max_length=300, default="")
        actions = TextField(default="[]")  # JSON: what it did
        run_leaf = BigIntegerField(null=True)  # the run's own leaf
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "contract_run"
            indexes = (
                (("version", "trigger_hash"), True),
                (("business", "created_at"), False),
            )

    class ContractCursor(Model):
        business = ForeignKeyField(Business, primary_key=True, on_delete="CASCADE", backref="+")
        next_leaf = BigIntegerField(default=0)

        class Meta:
            database = db
            table_name = "contract_cursor"

    class Bill(Model):
        id = AutoField()
        business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
        supplier = CharField(max_length=100)
        payee = CharField(
            max_length=100, default=""
        )  # provider id of the supplier (openid), if any
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
            database = db
            table_name = "bill"
            indexes = ((("business", "status", "due_date"), False),)

    class Receivable(Model):
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
            database = db
            table_name = "receivable"
            indexes = ((("business", "reference"), False),)

    class Payment(Model):
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
        last_error = CharField(max_length=300, default="")
        entry = ForeignKeyField(Entry, null=True, backref="+")
        business_date = DateField()  # the day the limits count it against
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "payment"
            indexes = (
                (("business", "status"), False),
                (("status", "next_attempt_at"), False),
                (("business", "payee", "business_date"), False),
            )

    class PaymentNotice(Model):
        id = AutoField()
        provider = CharField(max_length=16)
        notice_id = CharField(max_length=64)
        received_at = DateTimeField()
        body = TextField(default="")

        class Meta:
            database = db
            table_name = "payment_notice"
            indexes = ((("provider", "notice_id"), True),)

    db.create_tables(
        [
            Contract,
            ContractVersion,
            ContractRun,
            ContractCursor,
            Bill,
            Receivable,
            Payment,
            PaymentNotice,
        ]
    )
    immutable_versions(db)


def immutable_versions(db):
    """A contract version is never changed: editing makes a new one (UPDATE refused)."""
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(
            "CREATE FUNCTION suanpan_refuse_version_change() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'contract versions are immutable'; END $$ LANGUAGE plpgsql"
        )
        db.execute_sql(
            "CREATE TRIGGER contract_version_immutable BEFORE UPDATE ON contract_version "
            "FOR EACH ROW EXECUTE FUNCTION suanpan_refuse_version_change()"
        )
        return
    db.execute_sql(
        "CREATE TRIGGER contract_version_no_update BEFORE UPDATE ON contract_version "
        "BEGIN SELECT RAISE(ABORT, 'contract versions are immutable'); END"
    )


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("DROP FUNCTION IF EXISTS suanpan_refuse_version_change() CASCADE")
    for table in (
        "payment_notice",
        "payment",
        "receivable",
        "bill",
        "contract_cursor",
        "contract_run",
        "contract_version",
        "contract",
    ):
        migrator.migrate(migrator.drop_table(table))
