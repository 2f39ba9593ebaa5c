"""Accounts (people who sign in), their bearer tokens, and organisations' API keys.

Secrets are never stored: tokens and keys are kept as the SHA-256 of the secret,
passwords as an argon2id hash.
"""

from __future__ import annotations

from tortoise import fields

from services.content import TimestampedModel
from services.viewer import Role


class Account(TimestampedModel):
    """A person who signs in: administrator, editor, local-authority member or partner."""

    email = fields.CharField(max_length=254, unique=True)  # always lower-cased
    password_hash = fields.CharField(max_length=255)
    display_name = fields.CharField(max_length=200, default="")
    role = fields.CharEnumField(Role, max_length=20)
    territory: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Territory", related_name="accounts", null=True, on_delete=fields.RESTRICT
    )
    organization: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Organization", related_name="accounts", null=True, on_delete=fields.RESTRICT
    )
    is_active = fields.BooleanField(default=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "account"


class AccessToken(TimestampedModel):
    """A bearer token of an account (``tec_u_…``), stored as the SHA-256 of its secret."""

    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "access_token"


class ApiKey(TimestampedModel):
    """An organisation's key for partner sites (``tec_k_…``), stored hashed, revocable."""

    organization: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Organization", related_name="api_keys", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200, default="")
    prefix = fields.CharField(max_length=8, unique=True)
    key_hash = fields.CharField(max_length=64, unique=True)
    scopes = fields.CharField(max_length=100)  # comma-separated: READ,CONTRIBUTE
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split(",") if s)
