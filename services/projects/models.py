"""Shared projects: one strategic theme, 3 to 5 participating authorities, any observers."""

from __future__ import annotations

import enum

from tortoise import fields

from services.content import TimestampedModel


class ProjectStatus(str, enum.Enum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    ENGAGEMENT = "ENGAGEMENT"
    DIAGNOSTIC = "DIAGNOSTIC"
    ACTION_PLANS = "ACTION_PLANS"
    EVALUATION = "EVALUATION"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class StageKind(str, enum.Enum):
    ENGAGEMENT = "ENGAGEMENT"
    DIAGNOSTIC = "DIAGNOSTIC"
    ACTION_PLANS = "ACTION_PLANS"
    EVALUATION = "EVALUATION"


class MembershipRole(str, enum.Enum):
    PARTICIPANT = "PARTICIPANT"
    OBSERVER = "OBSERVER"


class MembershipStatus(str, enum.Enum):
    APPLIED = "APPLIED"
    CONFIRMED = "CONFIRMED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"


MIN_PARTICIPANTS = 3
MAX_PARTICIPANTS = 5


class SharedProject(TimestampedModel):
    slug = fields.CharField(max_length=120, unique=True)
    title = fields.CharField(max_length=300)
    summary = fields.TextField(default="")
    theme = fields.ForeignKeyField(
        "models.Theme", related_name="shared_projects", on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(ProjectStatus, max_length=16, default=ProjectStatus.DRAFT)
    starts_on = fields.DateField(null=True)
    ends_on = fields.DateField(null=True)
    voting_round = fields.ForeignKeyField(
        "models.VotingRound", related_name="shared_projects", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "shared_project"


class ProjectProvider(TimestampedModel):
    project = fields.ForeignKeyField(
        "models.SharedProject", related_name="provider_links", on_delete=fields.CASCADE
    )
    organization = fields.ForeignKeyField(
        "models.Organization", related_name="project_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "project_provider"
        unique_together = (("project", "organization"),)


class Membership(TimestampedModel):
    """A local authority in a shared project, as participant or observer."""

    project = fields.ForeignKeyField(
        "models.SharedProject", related_name="memberships", on_delete=fields.CASCADE
    )
    territory = fields.ForeignKeyField(
        "models.Territory", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(MembershipRole, max_length=16)
    status = fields.CharEnumField(MembershipStatus, max_length=16, default=MembershipStatus.APPLIED)
    action_plan = fields.TextField(default="")
    diagnostic_notes = fields.TextField(default="")
    confirmed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "project_membership"
        unique_together = (("project", "territory"),)


class ProjectStage(TimestampedModel):
    project = fields.ForeignKeyField(
        "models.SharedProject", related_name="stages", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(StageKind, max_length=16)
    # The territory of a diagnostic stage (« la rencontre de chacun des territoires »).
    territory = fields.ForeignKeyField(
        "models.Territory", related_name="project_stages", null=True, on_delete=fields.SET_NULL
    )
    position = fields.IntField()
    title = fields.CharField(max_length=300)
    description = fields.TextField(default="")
    starts_on = fields.DateField(null=True)
    ends_on = fields.DateField(null=True)

    class Meta:
        table = "project_stage"
        unique_together = (("project", "position"),)


class ProjectNews(TimestampedModel):
    """A news item a shared project publishes (« Découvrir et suivre l'accompagnement »)."""

    project = fields.ForeignKeyField(
        "models.SharedProject", related_name="news", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=300)
    # Sanitised HTML (services.richtext).
    body = fields.TextField(default="")
    published_at = fields.DatetimeField()

    class Meta:
        table = "project_news"
        indexes = (("project_id", "published_at"),)


class ProjectResource(TimestampedModel):
    """A resource linked to a shared project (its diagnostics, guides, reports…)."""

    project = fields.ForeignKeyField(
        "models.SharedProject", related_name="resource_links", on_delete=fields.CASCADE
    )
    resource = fields.ForeignKeyField(
        "models.Resource", related_name="project_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "project_resource"
        unique_together = (("project", "resource"),)
