"""Initial schema: accounts, businesses and roles, the ledger, idempotency records.

Generated from the models by playhouse.migrations, then frozen. Timestamp defaults (UTC) are set
by the application. Triggers make posted entries and their lines immutable in the database itself.
"""

from peewee import *


def up(migrator, db):
    class User(Model):
        username = CharField(unique=True, null=True, max_length=64)
        phone = CharField(unique=True, null=True, max_length=20)
        password_hash = CharField(null=True)
        display_name = CharField(max_length=64, default="")
        wechat_openid = CharField(unique=True, null=True, max_length=128)
        wechat_unionid = CharField(index=True, null=True, max_length=128)
        is_dev_account = BooleanField(default=False)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "user"

    db.create_tables([User])

    class Business(Model):
        name = CharField(max_length=100)
        uscc = CharField(index=True, max_length=18)
        uscc_check_ok = BooleanField(default=True)
        taxpayer_type = CharField(max_length=16)
        industry = CharField(max_length=64, default="")
        region = CharField(max_length=64, default="")
        created_at = DateTimeField()
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")

        class Meta:
            database = db
            table_name = "business"

    db.create_tables([Business])

    class Account(Model):
        business = ForeignKeyField(Business, on_delete="CASCADE")
        code = CharField(max_length=16)
        name = CharField(max_length=64)
        name_en = CharField(max_length=64, default="")
        type = CharField(max_length=16)
        normal_side = CharField(max_length=6)
        parent_code = CharField(null=True, max_length=16)
        is_active = BooleanField(default=True)
        is_standard = BooleanField(default=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "account"
            indexes = ((("business", "code"), True),)

    db.create_tables([Account])

    class AuthSession(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        created_at = DateTimeField()
        revoked_at = DateTimeField(null=True)
        user_agent = CharField(default="")

        class Meta:
            database = db
            table_name = "auth_session"

    db.create_tables([AuthSession])

    class Category(Model):
        business = ForeignKeyField(Business, on_delete="CASCADE")
        key = CharField(max_length=32)
        kind = CharField(max_length=8)
        name = CharField(max_length=32)
        name_en = CharField(max_length=32)
        icon = CharField(max_length=32, default="")
        account_code = CharField(max_length=16)
        sort_order = IntegerField(default=0)
        is_active = BooleanField(default=True)

        class Meta:
            database = db
            table_name = "category"
            indexes = ((("business", "key"), True),)

    db.create_tables([Category])

    class ClosedPeriod(Model):
        business = ForeignKeyField(Business, on_delete="CASCADE")
        month = CharField(max_length=7)
        closed_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        closed_at = DateTimeField()

        class Meta:
            database = db
            table_name = "closed_period"
            indexes = ((("business", "month"), True),)

    db.create_tables([ClosedPeriod])

    class Entry(Model):
        business = ForeignKeyField(Business, on_delete="CASCADE")
        number = IntegerField()
        date = DateField()
        memo = CharField(max_length=200, default="")
        status = CharField(max_length=8)
        source = CharField(max_length=16, default="manual")
        category_key = CharField(null=True, max_length=32)
        paid_with = CharField(null=True, max_length=16)
        reverses = ForeignKeyField("self", unique=True, null=True, on_delete="RESTRICT")
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField()
        posted_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        posted_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "entry"
            indexes = ((("business", "number"), True), (("business", "status", "date"), False))

    db.create_tables([Entry])

    class EntryLine(Model):
        entry = ForeignKeyField(Entry, on_delete="CASCADE")
        line_no = IntegerField()
        account = ForeignKeyField(Account, on_delete="RESTRICT")
        debit = BigIntegerField(default=0)
        credit = BigIntegerField(default=0)
        memo = CharField(max_length=200, default="")

        class Meta:
            database = db
            table_name = "entry_line"
            indexes = ((("entry", "line_no"), True),)

    db.create_tables([EntryLine])

    class IdempotencyRecord(Model):
        user = ForeignKeyField(User, null=True, on_delete="CASCADE")
        scope = CharField(max_length=64)
        key = CharField()
        request_hash = CharField(max_length=64)
        status_code = IntegerField()
        response_body = TextField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "idempotency_record"
            indexes = ((("scope", "key"), True),)

    db.create_tables([IdempotencyRecord])

    class Invite(Model):
        business = ForeignKeyField(Business, on_delete="CASCADE")
        role = CharField(max_length=16)
        token_hash = CharField(unique=True, max_length=64)
        created_by = ForeignKeyField(User, on_delete="CASCADE")
        created_at = DateTimeField()
        expires_at = DateTimeField()
        accepted_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        accepted_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "invite"

    db.create_tables([Invite])

    class LoginThrottle(Model):
        key = CharField(primary_key=True, max_length=160)
        failures = IntegerField(default=0)
        window_start = DateTimeField()

        class Meta:
            database = db
            table_name = "login_throttle"

    db.create_tables([LoginThrottle])

    class Membership(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        business = ForeignKeyField(Business, on_delete="CASCADE")
        role = CharField(max_length=16)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "membership"
            indexes = ((("user", "business"), True),)

    db.create_tables([Membership])

    class RefreshToken(Model):
        session = ForeignKeyField(AuthSession, on_delete="CASCADE")
        token_hash = CharField(unique=True, max_length=64)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        used_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "refresh_token"

    db.create_tables([RefreshToken])
    immutable_posted_entries(db)


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("DROP FUNCTION IF EXISTS suanpan_refuse_posted_change() CASCADE")
    migrator.migrate(migrator.drop_table("refresh_token"))
    migrator.migrate(migrator.drop_table("membership"))
    migrator.migrate(migrator.drop_table("login_throttle"))
    migrator.migrate(migrator.drop_table("invite"))
    migrator.migrate(migrator.drop_table("idempotency_record"))
    migrator.migrate(migrator.drop_table("entry_line"))
    migrator.migrate(migrator.drop_table("entry"))
    migrator.migrate(migrator.drop_table("closed_period"))
    migrator.migrate(migrator.drop_table("category"))
    migrator.migrate(migrator.drop_table("auth_session"))
    migrator.migrate(migrator.drop_table("account"))
    migrator.migrate(migrator.drop_table("business"))
    migrator.migrate(migrator.drop_table("user"))


SQLITE_TRIGGERS = [
    """CREATE TRIGGER entry_posted_no_update BEFORE UPDATE ON entry WHEN OLD.status = 'posted'
    BEGIN SELECT RAISE(ABORT, 'posted entries are never updated; post a reversing entry'); END""",
    """CREATE TRIGGER entry_posted_no_delete BEFORE DELETE ON entry WHEN OLD.status = 'posted'
    BEGIN SELECT RAISE(ABORT, 'posted entries are never deleted; post a reversing entry'); END""",
    """CREATE TRIGGER entry_line_posted_no_update BEFORE UPDATE ON entry_line
    WHEN (SELECT status FROM entry WHERE id = OLD.entry_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, 'lines of posted entries are never updated'); END""",
    """CREATE TRIGGER entry_line_posted_no_delete BEFORE DELETE ON entry_line
    WHEN (SELECT status FROM entry WHERE id = OLD.entry_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, 'lines of posted entries are never deleted'); END""",
]

# psycopg2 formats the statement, so RAISE placeholders are written %% to reach PL/pgSQL as %.
POSTGRES_TRIGGERS = [
    """CREATE FUNCTION suanpan_refuse_posted_change() RETURNS trigger AS $$
    BEGIN
        IF TG_TABLE_NAME = 'entry' THEN
            IF OLD.status = 'posted' THEN
                RAISE EXCEPTION 'posted entries are never changed (%% on entry %%)', TG_OP, OLD.id;
            END IF;
        ELSIF (SELECT status FROM entry WHERE id = OLD.entry_id) = 'posted' THEN
            RAISE EXCEPTION 'lines of posted entries are never changed (%% on entry %%)', TG_OP, OLD.entry_id;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER entry_posted_immutable BEFORE UPDATE OR DELETE ON entry
    FOR EACH ROW EXECUTE FUNCTION suanpan_refuse_posted_change()""",
    """CREATE TRIGGER entry_line_posted_immutable BEFORE UPDATE OR DELETE ON entry_line
    FOR EACH ROW EXECUTE FUNCTION suanpan_refuse_posted_change()""",
]


def immutable_posted_entries(db):
    statements = POSTGRES_TRIGGERS if isinstance(db, PostgresqlDatabase) else SQLITE_TRIGGERS
    for sql in statements:
        db.execute_sql(sql)
