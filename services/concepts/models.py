"""Concepts of the month: short introductions to a notion of democratic theory."""

from __future__ import annotations

from tortoise import fields

from services.content import ContentModel, TimestampedModel


class Concept(ContentModel):
    title = fields.CharField(max_length=200)
    summary = fields.TextField(default="")
    body = fields.TextField(default="")
    month = fields.DateField(null=True)
    further_reading = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "concept"


class ConceptOrganization(TimestampedModel):
    concept = fields.ForeignKeyField(
        "models.Concept", related_name="organization_links", on_delete=fields.CASCADE
    )
    organization = fields.ForeignKeyField(
        "models.Organization", related_name="concept_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "concept_organization"
        unique_together = (("concept", "organization"),)
