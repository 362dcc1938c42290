"""Stored responses for POSTs that carried an Idempotency-Key, so retries replay, never repeat."""

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from app.clock import utcnow
from app.db import BaseModel
from app.models.users import User


class IdempotencyRecord(BaseModel):
    id = AutoField()
    # Keys are per caller: the user for authenticated calls, 'anon' scope otherwise.
    user = ForeignKeyField(User, null=True, on_delete="CASCADE", backref="+")
    scope = CharField(max_length=64)
    key = CharField(max_length=255)
    request_hash = CharField(max_length=64)
    status_code = IntegerField()
    response_body = TextField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("scope", "key"), True),)
