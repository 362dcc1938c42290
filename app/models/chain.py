"""The chain's tables: one RFC 9162 Merkle log per business, its stored hashes, its blocks.

All three are append-only: migration 0002 installs triggers that refuse UPDATE and DELETE,
so a change "behind the API" has to drop the triggers first, and `flask chain verify` then
finds it. There are deliberately no foreign keys with ON DELETE actions: a cascade or a
SET NULL would be an UPDATE or DELETE the triggers refuse. Timestamps are naive UTC.
"""

from peewee import (
    AutoField,
    BigIntegerField,
    BlobField,
    CharField,
    CompositeKey,
    DateTimeField,
    IntegerField,
    TextField,
)

from app.clock import utcnow
from app.db import BaseModel


class ChainLeaf(BaseModel):
    """Leaf ``idx`` of a business's log: the canonical JSON of one ledger event.

    ``time``, ``type`` and ``actor_id`` repeat what the JSON says so that verify can rebuild
    the leaf from rows alone; ``entry_id`` ties entry events to their journal entry.
    """

    id = AutoField()
    business_id = IntegerField()
    idx = BigIntegerField()
    type = CharField(max_length=32)
    time = DateTimeField()
    actor_id = IntegerField(null=True)
    entry_id = IntegerField(null=True)
    data = TextField()

    class Meta:
        table_name = "chain_leaf"
        indexes = ((("business_id", "idx"), True), (("business_id", "entry_id"), False))


class ChainHash(BaseModel):
    """Stored hash ``idx`` (chain.tlog's dense order: leaf hashes and complete subtrees)."""

    business_id = IntegerField()
    idx = BigIntegerField()
    hash = BlobField()

    class Meta:
        table_name = "chain_hash"
        primary_key = CompositeKey("business_id", "idx")


class ChainBlock(BaseModel):
    """A sealed block: leaves [first_leaf, end_leaf), the tree head and its signed checkpoint.

    The columns are exactly chain.blocks.BlockHeader; ``block_hash`` is stored for display
    and lookups only (verify recomputes it). Unique (business, first_leaf) is the last line
    of defence against two sealers sealing the same leaves twice.
    """

    id = AutoField()
    business_id = IntegerField()
    height = BigIntegerField()
    prev_hash = BlobField()
    first_leaf = BigIntegerField()
    end_leaf = BigIntegerField()
    tree_size = BigIntegerField()
    root = BlobField()
    sealed_at = CharField(max_length=20)  # YYYY-MM-DDTHH:MM:SSZ, exactly as in the header
    checkpoint = TextField()
    block_hash = BlobField()

    class Meta:
        table_name = "chain_block"
        indexes = (
            (("business_id", "height"), True),
            (("business_id", "first_leaf"), True),
            (("business_id", "end_leaf"), True),
        )


class ChainAlert(BaseModel):
    """A failed verification, kept for the business's owners to see (not append-only)."""

    id = AutoField()
    business_id = IntegerField(index=True)
    kind = CharField(max_length=32)  # verify_failed
    message = TextField()
    created_at = DateTimeField(default=utcnow)
    resolved_at = DateTimeField(null=True)
