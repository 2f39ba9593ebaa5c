"""Organisations: the co-animators of Territoires en Commun, providers, sources of resources."""

from __future__ import annotations

import enum

from tortoise import fields

from services.content import TimestampedModel


class OrganizationKind(str, enum.Enum):
    PUBLIC_AGENCY = "PUBLIC_AGENCY"
    PUBLIC_BANK = "PUBLIC_BANK"
    ASSOCIATION = "ASSOCIATION"
    LOCAL_AUTHORITY = "LOCAL_AUTHORITY"
    COMPANY = "COMPANY"
    RESEARCH = "RESEARCH"
    MEDIA = "MEDIA"
    NETWORK = "NETWORK"
    OTHER = "OTHER"


class OrganizationRole(str, enum.Enum):
    CO_ANIMATOR = "CO_ANIMATOR"
    PROVIDER = "PROVIDER"
    SOURCE = "SOURCE"
    PARTNER = "PARTNER"
    ORGANIZER = "ORGANIZER"


class Organization(TimestampedModel):
    slug = fields.CharField(max_length=120, unique=True)
    name = fields.CharField(max_length=200)
    acronym = fields.CharField(max_length=30, null=True)
    kind = fields.CharEnumField(OrganizationKind, max_length=20, default=OrganizationKind.OTHER)
    website = fields.CharField(max_length=500, null=True)
    description = fields.TextField(default="")

    class Meta:
        table = "organization"


class OrganizationRoleLink(TimestampedModel):
    """One role an organisation plays on the platform (it may play several)."""

    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="role_links", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(OrganizationRole, max_length=20)

    class Meta:
        table = "organization_role"
        unique_together = (("organization", "role"),)
