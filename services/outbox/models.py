"""The transactional outbox: one row per change that a consumer must apply elsewhere.

Rows are written in the same transaction as the change itself, so a committed change
always has its row and a rolled-back one never does. Consumers re-read the current
state of the entity when they apply a row, which makes applying idempotent.
"""

from __future__ import annotations

from tortoise import fields

from services.compat_tortoise import ModelWithoutComments


class OutboxEntry(ModelWithoutComments):
    id = fields.BigIntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Which consumer applies it ("search"); several topics may share the table.
    topic = fields.CharField(max_length=30)
    entity_type = fields.CharField(max_length=40)
    entity_id = fields.IntField()
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_entry"
        indexes = (("topic", "processed_at", "id"),)
