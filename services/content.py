"""What every piece of editorial content shares: timestamps, a slug and a status.

Visibility is decided here once: without editorial rights only ``PUBLISHED`` content
exists.
"""

from __future__ import annotations

import enum

from tortoise import fields

from services.compat_tortoise import ModelWithoutComments

# Slugs are made in services.slugs; importers of services.content keep finding them here.
from services.slugs import slugify as slugify


class ContentStatus(str, enum.Enum):
    """Life cycle of a piece of content, from draft to archive."""

    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    PUBLISHED = "PUBLISHED"
    REJECTED = "REJECTED"
    ARCHIVED = "ARCHIVED"


class Audience(str, enum.Enum):
    """Who a resource is written for."""

    ALL = "ALL"
    LOCAL_AUTHORITIES = "LOCAL_AUTHORITIES"
    PARTNERS = "PARTNERS"
    CITIZENS = "CITIZENS"


class TimestampedModel(ModelWithoutComments):
    """Abstract base: integer key plus creation and update times (UTC, aware)."""

    id = fields.IntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


class ContentModel(TimestampedModel):
    """Abstract base of publishable content: a unique slug and a status."""

    slug = fields.CharField(max_length=120, unique=True)
    status = fields.CharEnumField(ContentStatus, max_length=16, default=ContentStatus.PUBLISHED)
    # Publication time; a PUBLISHED item with a future date is scheduled (not yet visible).
    published_at = fields.DatetimeField(null=True)
    # Incremented by every update: the optimistic-concurrency token of the write API.
    version = fields.IntField(default=1, db_default=1)

    class Meta:
        abstract = True
