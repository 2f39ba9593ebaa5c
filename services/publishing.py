"""The publication workflow of every publishable content type (``publishable=True`` in
its declaration): draft → published (now or at a date) → unpublished (back to draft) or
archived."""

from __future__ import annotations

import datetime as dt

from services import registry
from services.content import ContentModel, ContentStatus
from services.editing import get_for_update, now, update_versioned, write_transaction
from services.errors import BadUserInput, Conflict
from services.policy import authorize
from services.validation import require_aware
from services.viewer import Viewer


def _publishable(type_name: str) -> registry.ContentType:
    publishable = registry.publishable()
    content = publishable.get(type_name)
    if content is None:
        raise BadUserInput(
            f"Un objet de type {type_name} ne se publie pas "
            f"(types publiables : {', '.join(publishable)}).",
            field="id",
        )
    return content


async def publish(
    viewer: Viewer, type_name: str, pk: int, *, version: int, at: dt.datetime | None = None
) -> ContentModel:
    """Publish now, or at ``at`` (the content stays invisible to the public until then)."""
    authorize(viewer, "content.publish")
    content = _publishable(type_name)
    when = require_aware(at, field="at") if at is not None else now()
    async with write_transaction():
        row = await get_for_update(content.model, pk, label=content.label, version=version)
        if row.status == ContentStatus.SUBMITTED:
            raise Conflict(
                "Contribution en attente : utilisez acceptContribution pour la publier.",
                field="id",
            )
        return await update_versioned(
            viewer,
            row,
            version=version,
            action=f"{content.entity}.publish",
            values={"status": ContentStatus.PUBLISHED, "published_at": when},
        )


async def unpublish(viewer: Viewer, type_name: str, pk: int, *, version: int) -> ContentModel:
    """Withdraw from publication: the content goes back to draft."""
    authorize(viewer, "content.unpublish")
    content = _publishable(type_name)
    async with write_transaction():
        row = await get_for_update(content.model, pk, label=content.label, version=version)
        return await update_versioned(
            viewer,
            row,
            version=version,
            action=f"{content.entity}.unpublish",
            values={"status": ContentStatus.DRAFT, "published_at": None},
        )


async def archive(viewer: Viewer, type_name: str, pk: int, *, version: int) -> ContentModel:
    """Archive: kept for the record, invisible to the public."""
    authorize(viewer, "content.archive")
    content = _publishable(type_name)
    async with write_transaction():
        row = await get_for_update(content.model, pk, label=content.label, version=version)
        return await update_versioned(
            viewer,
            row,
            version=version,
            action=f"{content.entity}.archive",
            values={"status": ContentStatus.ARCHIVED},
        )
