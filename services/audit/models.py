"""The audit log: who changed what, when, with the before/after of changed fields."""

from __future__ import annotations

from tortoise import fields

from services.compat_tortoise import ModelWithoutComments


class AuditEntry(ModelWithoutComments):
    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor_account = fields.ForeignKeyField(
        "models.Account", related_name="audit_entries", null=True, on_delete=fields.SET_NULL
    )
    actor_api_key = fields.ForeignKeyField(
        "models.ApiKey", related_name="audit_entries", null=True, on_delete=fields.SET_NULL
    )
    actor_role = fields.CharField(max_length=20)
    # Who ran the operators' command `tec`, e.g. "tec (alice@host)"; null for the API.
    actor_name = fields.CharField(max_length=200, null=True)
    # e.g. "resource.update", "resource.publish", "territory.delete"
    action = fields.CharField(max_length=60, db_index=True)
    entity_type = fields.CharField(max_length=40)
    entity_id = fields.IntField()
    # {field: [before, after]} of the fields that changed; secrets are never recorded.
    changes = fields.JSONField(default=dict)

    class Meta:
        table = "audit_entry"
        indexes = (("entity_type", "entity_id"),)
