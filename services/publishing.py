"""The publication workflow shared by resources, events, concepts and themes:
draft → published (now or at a date) → unpublished (back to draft) or archived."""

from __future__ import annotations

import datetime as dt

from services.concepts.models import Concept
from services.content import ContentModel, ContentStatus
from services.editing import get_for_update, now, update_versioned, write_transaction
from services.errors import BadUserInput, Conflict
from services.events.models import Event
from services.policy import authorize
from services.resources.models import Resource
from services.themes.models import Theme
from services.validation import require_aware
from services.viewer import Viewer

PUBLISHABLE: dict[str, type[ContentModel]] = {
    "Resource": Resource,
    "Event": Event,
    "Concept": Concept,
    "Theme": Theme,
}


def _model(type_name: str) -> type[ContentModel]:
    model = PUBLISHABLE.get(type_name)
    if model is None:
        raise BadUserInput(
            f"Un objet de type {type_name} ne se publie pas "
            f"(types publiables : {', '.join(PUBLISHABLE)}).",
            field="id",
        )
    return model


async def publish(
    viewer: Viewer, type_name: str, pk: int, *, version: int, at: dt.datetime | None = None
) -> ContentModel:
    """Publish now, or at ``at`` (the content stays invisible to the public until then)."""
    authorize(viewer, "content.publish")
    model = _model(type_name)
    when = require_aware(at, field="at") if at is not None else now()
    async with write_transaction():
        row = await get_for_update(model, pk, label=type_name, version=version)
        if row.status == ContentStatus.SUBMITTED:
            raise Conflict(
                "Contribution en attente : utilisez acceptContribution pour la publier.",
                field="id",
            )
        return await update_versioned(
            viewer,
            row,
            version=version,
            action=f"{type_name.lower()}.publish",
            values={"status": ContentStatus.PUBLISHED, "published_at": when},
        )


async def unpublish(viewer: Viewer, type_name: str, pk: int, *, version: int) -> ContentModel:
    """Withdraw from publication: the content goes back to draft."""
    authorize(viewer, "content.unpublish")
    async with write_transaction():
        row = await get_for_update(_model(type_name), pk, label=type_name, version=version)
        return await update_versioned(
            viewer,
            row,
            version=version,
            action=f"{type_name.lower()}.unpublish",
            values={"status": ContentStatus.DRAFT, "published_at": None},
        )


async def archive(viewer: Viewer, type_name: str, pk: int, *, version: int) -> ContentModel:
    """Archive: kept for the record, invisible to the public."""
    authorize(viewer, "content.archive")
    async with write_transaction():
        row = await get_for_update(_model(type_name), pk, label=type_name, version=version)
        return await update_versioned(
            viewer,
            row,
            version=version,
            action=f"{type_name.lower()}.archive",
            values={"status": ContentStatus.ARCHIVED},
        )
