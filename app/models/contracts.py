"""Rule contracts (docs/contracts.md): a contract, its immutable versions, and its runs.

A version is never updated: editing a contract writes a new version whose `hash` is the SHA-256
of the document's canonical JSON (RFC 8785), the same bytes the chain leaf commits to. A run is
unique per (version, triggering leaf), which is what makes delivery of an event twice harmless.
Amounts are integer fen; timestamps naive UTC.
"""

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from app.db import BaseModel
from app.models.businesses import Business
from app.models.users import User

RUN_DECISIONS = ("fired", "skipped", "refused", "error")


class Contract(BaseModel):
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
        table_name = "contract"
        indexes = ((("business", "enabled"), False),)


class ContractVersion(BaseModel):
    id = AutoField()
    contract = ForeignKeyField(Contract, on_delete="CASCADE", backref="+")
    business = ForeignKeyField(Business, on_delete="CASCADE", backref="+")
    version = IntegerField()
    document = TextField()  # canonical JSON
    hash = CharField(max_length=64)  # hex SHA-256 of `document`
    created_by = ForeignKeyField(User, backref="+")
    created_at = DateTimeField()

    class Meta:
        table_name = "contract_version"
        indexes = ((("contract", "version"), True),)


class ContractRun(BaseModel):
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
        table_name = "contract_run"
        indexes = (
            (("version", "trigger_hash"), True),
            (("business", "created_at"), False),
        )


class ContractCursor(BaseModel):
    """How far the engine has read a business's log (the next leaf index to look at)."""

    business = ForeignKeyField(Business, primary_key=True, on_delete="CASCADE", backref="+")
    next_leaf = BigIntegerField(default=0)

    class Meta:
        table_name = "contract_cursor"
