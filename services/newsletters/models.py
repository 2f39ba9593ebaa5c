"""Newsletter templates, issues, the items editors place in them, and the delivery queue."""

from __future__ import annotations

import enum

from tortoise import fields

from services.content import TimestampedModel


class SectionKind(str, enum.Enum):
    """Kinds of section an issue is made of. Their order in an issue is data: the
    template declares one (``mailer/templates/default.sections.json`` follows the seeds)
    and editors may reorder sections or leave some out for an issue."""

    VIEW_IN_BROWSER = "VIEW_IN_BROWSER"
    INTRODUCTION = "INTRODUCTION"
    THEME_OF_THE_MONTH = "THEME_OF_THE_MONTH"
    INTRODUCTORY_RESOURCE = "INTRODUCTORY_RESOURCE"
    INSPIRING_PROJECTS = "INSPIRING_PROJECTS"
    CONCEPT = "CONCEPT"
    NEXT_THEME = "NEXT_THEME"
    VOTE = "VOTE"
    SHARED_PROJECTS = "SHARED_PROJECTS"
    PARTNER_NEWS = "PARTNER_NEWS"
    AGENDA = "AGENDA"
    FOOTER = "FOOTER"


class IssueStatus(str, enum.Enum):
    """Life cycle of an issue: written, scheduled, being sent, sent (or cancelled)."""

    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    SENDING = "SENDING"
    SENT = "SENT"
    CANCELLED = "CANCELLED"


class DeliveryStatus(str, enum.Enum):
    """State of one message of the queue."""

    PENDING = "PENDING"  # waiting (or waiting for a retry at next_attempt_at)
    SENDING = "SENDING"  # claimed by a worker until lease_until
    SENT = "SENT"
    FAILED = "FAILED"  # refused permanently, or out of attempts
    CANCELLED = "CANCELLED"


class NewsletterTemplate(TimestampedModel):
    """A template is data: a GraphQL document run against the public schema, the MJML
    (Jinja) markup that renders its result, and an optional plain-text template."""

    slug = fields.CharField(max_length=120, unique=True)
    name = fields.CharField(max_length=200)
    document = fields.TextField()
    mjml = fields.TextField()
    text = fields.TextField(default="")
    # The sections the template renders, in their default order: a list of
    # {"kind", "items": "dotted.path.in.the.result", "title", "body", "cta", "item_cta"}
    # (or, in the older form, {"SECTION_KIND": "dotted.path"}).
    sections = fields.JSONField(default=dict)
    version = fields.IntField(default=1, db_default=1)

    class Meta:
        table = "newsletter_template"


class NewsletterIssue(TimestampedModel):
    """One issue. Once sending starts its composed content is frozen: the web archive shows
    what was sent, whatever happens to the resources afterwards."""

    slug = fields.CharField(max_length=120, unique=True)
    number = fields.IntField(null=True)
    title = fields.CharField(max_length=300)
    subject = fields.CharField(max_length=300)
    # Null: the built-in default template (mailer/templates/default.*).
    template: fields.ForeignKeyNullableRelation[NewsletterTemplate] = fields.ForeignKeyField(
        "models.NewsletterTemplate", related_name="issues", null=True, on_delete=fields.RESTRICT
    )
    variables = fields.JSONField(default=dict)
    # The month the issue is about (first day); None for issues made before months were kept.
    month = fields.DateField(null=True)
    introduction = fields.TextField(default="")
    # This issue's sections in order, each {"kind", "title", "body", "cta", "item_cta",
    # "curated"} (None fields: the template's); kinds not listed are left out. None: the
    # template's sections as declared.
    sections = fields.JSONField(null=True)
    # Segment: audiences (empty = all) and themes (empty = everyone, else followers).
    segment_audiences = fields.JSONField(default=list)
    segment_themes = fields.JSONField(default=list)
    status = fields.CharEnumField(IssueStatus, max_length=16, default=IssueStatus.DRAFT)
    scheduled_at = fields.DatetimeField(null=True)
    scheduled_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Account", related_name="scheduled_issues", null=True, on_delete=fields.SET_NULL
    )
    frozen_at = fields.DatetimeField(null=True)
    frozen_html = fields.TextField(null=True)
    frozen_text = fields.TextField(null=True)
    frozen_subject = fields.CharField(max_length=300, null=True)
    sent_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1, db_default=1)

    class Meta:
        table = "newsletter_issue"
        indexes = (("status", "scheduled_at"),)


class IssueItem(TimestampedModel):
    """An editor's decision about one item of a section: added or reordered (``position``),
    pinned to the top, or removed from what the template's query found."""

    issue: fields.ForeignKeyRelation[NewsletterIssue] = fields.ForeignKeyField(
        "models.NewsletterIssue", related_name="items", on_delete=fields.CASCADE
    )
    section = fields.CharEnumField(SectionKind, max_length=24)
    node_id = fields.CharField(max_length=120)  # global GraphQL ID of the item
    position = fields.IntField(default=0)
    pinned = fields.BooleanField(default=False)
    removed = fields.BooleanField(default=False)
    # Wording of this item's link; None: the section's (an empty string: no link).
    cta = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "newsletter_issue_item"
        unique_together = (("issue", "section", "node_id"),)


class Delivery(TimestampedModel):
    """One message of the durable queue: one row per (issue, subscriber)."""

    id = fields.BigIntField(primary_key=True)
    issue: fields.ForeignKeyRelation[NewsletterIssue] = fields.ForeignKeyField(
        "models.NewsletterIssue", related_name="deliveries", on_delete=fields.CASCADE
    )
    subscriber: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Subscriber", related_name="deliveries", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    lease_until = fields.DatetimeField(null=True)
    # How many times the row was reclaimed after its worker died mid-send.
    reclaims = fields.IntField(default=0)
    sent_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, null=True)

    class Meta:
        table = "newsletter_delivery"
        unique_together = (("issue", "subscriber"),)
        indexes = (("status", "next_attempt_at"), ("issue_id", "status"))
