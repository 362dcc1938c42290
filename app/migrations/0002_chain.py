"""The chain: per-business Merkle log leaves, stored hashes, sealed blocks, verify alerts.

Frozen copies of app/models/chain.py. Triggers make chain_leaf, chain_hash and chain_block
append-only on both SQLite and PostgreSQL (UPDATE and DELETE are refused); TRUNCATE, which
tests use between runs, does not fire row triggers.
"""

from peewee import *

CHAIN_TABLES = ("chain_leaf", "chain_hash", "chain_block")


def up(migrator, db):
    class ChainLeaf(Model):
        business_id = IntegerField()
        idx = BigIntegerField()
        type = CharField(max_length=32)
        time = DateTimeField()
        actor_id = IntegerField(null=True)
        entry_id = IntegerField(null=True)
        data = TextField()

        class Meta:
            database = db
            table_name = "chain_leaf"
            indexes = ((("business_id", "idx"), True), (("business_id", "entry_id"), False))

    class ChainHash(Model):
        business_id = IntegerField()
        idx = BigIntegerField()
        hash = BlobField()

        class Meta:
            database = db
            table_name = "chain_hash"
            primary_key = CompositeKey("business_id", "idx")

    class ChainBlock(Model):
        business_id = IntegerField()
        height = BigIntegerField()
        prev_hash = BlobField()
        first_leaf = BigIntegerField()
        end_leaf = BigIntegerField()
        tree_size = BigIntegerField()
        root = BlobField()
        sealed_at = CharField(max_length=20)
        checkpoint = TextField()
        block_hash = BlobField()

        class Meta:
            database = db
            table_name = "chain_block"
            indexes = (
                (("business_id", "height"), True),
                (("business_id", "first_leaf"), True),
                (("business_id", "end_leaf"), True),
            )

    class ChainAlert(Model):
        business_id = IntegerField(index=True)
        kind = CharField(max_length=32)
        message = TextField()
        created_at = DateTimeField()
        resolved_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "chain_alert"

    db.create_tables([ChainLeaf, ChainHash, ChainBlock, ChainAlert])
    append_only_chain_tables(db)


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("DROP FUNCTION IF EXISTS suanpan_refuse_chain_change() CASCADE")
    for table in ("chain_alert", *CHAIN_TABLES):
        migrator.migrate(migrator.drop_table(table))


POSTGRES_FUNCTION = """CREATE FUNCTION suanpan_refuse_chain_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the chain is append-only (%% on %%)', TG_OP, TG_TABLE_NAME;
    END
    $$ LANGUAGE plpgsql"""


def append_only_chain_tables(db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(POSTGRES_FUNCTION)
        for table in CHAIN_TABLES:
            db.execute_sql(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION suanpan_refuse_chain_change()"
            )
        return
    for table in CHAIN_TABLES:
        for op in ("UPDATE", "DELETE"):
            db.execute_sql(
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the chain is append-only ({op} on {table})'); END"
            )
