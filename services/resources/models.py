"""Resources: guides, experience reports, toolkits, dossiers, webinars, partner news…"""

from __future__ import annotations

import enum

from tortoise import fields

from services.content import Audience, ContentModel, TimestampedModel


class ResourceKind(str, enum.Enum):
    EXPERIENCE = "EXPERIENCE"
    GUIDE = "GUIDE"
    TOOLKIT = "TOOLKIT"
    SURVEY = "SURVEY"
    DOSSIER = "DOSSIER"
    WEBINAR = "WEBINAR"
    GAME = "GAME"
    MOOC = "MOOC"
    REPORT = "REPORT"
    NEWS = "NEWS"
    OTHER = "OTHER"


class Resource(ContentModel):
    title = fields.CharField(max_length=300)
    summary = fields.TextField(default="")
    # Sanitised HTML (services.richtext); never stored unsanitised.
    body = fields.TextField(default="")
    kind = fields.CharEnumField(ResourceKind, max_length=16, default=ResourceKind.OTHER)
    url = fields.CharField(max_length=1000, null=True)
    audience = fields.CharEnumField(Audience, max_length=20, default=Audience.ALL)
    # « J'envoie ma ressource »: who contributed it, for whom, and the moderation outcome.
    contributed_by = fields.ForeignKeyField(
        "models.Account", related_name="contributions", null=True, on_delete=fields.SET_NULL
    )
    contributed_by_key = fields.ForeignKeyField(
        "models.ApiKey", related_name="contributions", null=True, on_delete=fields.SET_NULL
    )
    contributor_territory = fields.ForeignKeyField(
        "models.Territory", related_name="contributions", null=True, on_delete=fields.SET_NULL
    )
    contributor_organization = fields.ForeignKeyField(
        "models.Organization", related_name="contributions", null=True, on_delete=fields.SET_NULL
    )
    submitted_at = fields.DatetimeField(null=True)
    rejection_reason = fields.TextField(null=True)

    class Meta:
        table = "resource"
        indexes = (("status", "published_at"),)


class ResourceTheme(TimestampedModel):
    resource = fields.ForeignKeyField(
        "models.Resource", related_name="theme_links", on_delete=fields.CASCADE
    )
    theme = fields.ForeignKeyField(
        "models.Theme", related_name="resource_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "resource_theme"
        unique_together = (("resource", "theme"),)
        # The other way round: a theme's resources, and the resources sharing a theme
        # with another (``related``), read without touching the table.
        indexes = (("theme_id", "resource_id"),)


class ResourceTerritory(TimestampedModel):
    resource = fields.ForeignKeyField(
        "models.Resource", related_name="territory_links", on_delete=fields.CASCADE
    )
    territory = fields.ForeignKeyField(
        "models.Territory", related_name="resource_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "resource_territory"
        unique_together = (("resource", "territory"),)


class ResourceOrganization(TimestampedModel):
    resource = fields.ForeignKeyField(
        "models.Resource", related_name="organization_links", on_delete=fields.CASCADE
    )
    organization = fields.ForeignKeyField(
        "models.Organization", related_name="resource_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "resource_organization"
        unique_together = (("resource", "organization"),)
