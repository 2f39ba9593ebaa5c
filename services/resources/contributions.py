"""« J'envoie ma ressource »: local authorities and partners contribute resources for the
next theme; editors accept (publish, crediting the contributor) or reject with a reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.content import ContentStatus
from services.editing import (
    apply_links,
    get_for_update,
    note_change,
    now,
    update_versioned,
    write_transaction,
)
from services.errors import Conflict
from services.fields import clean
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.policy import authorize
from services.resources.content_type import RESOURCE
from services.resources.models import Resource, ResourceOrganization, ResourceTerritory
from services.themes.service import get_next_theme
from services.validation import SUMMARY_MAX, clean_text, unique_slug
from services.viewer import Viewer

QUEUE_ORDER = Ordering((SortKey("submitted_at", False, "datetime"), SortKey("id", False, "int")))
OWN_ORDER = Ordering((SortKey("id", True, "int"),))


async def contribute_resource(viewer: Viewer, given: Mapping[str, Any]) -> Resource:
    """Submit a resource for moderation, on the announced next theme (and any given).
    The fields are a resource's (``RESOURCE.fields``), except the slug, which editors
    choose."""
    authorize(viewer, "contribution.submit")
    assert RESOURCE.fields is not None
    async with write_transaction():
        changes = await clean(
            RESOURCE.fields,
            {name: value for name, value in given.items() if name != "slug"},
            model=Resource,
            exclude_id=None,
            creating=True,
        )
        values = changes.values
        next_theme = await get_next_theme(viewer)
        themes = list(changes.links.get("themes", []))
        if next_theme is not None and next_theme.id not in themes:
            themes.insert(0, next_theme.id)
        changes.links["themes"] = themes
        resource = await Resource.create(
            **values,
            slug=await unique_slug(Resource, values["title"]),
            status=ContentStatus.SUBMITTED,
            submitted_at=now(),
            contributed_by_id=viewer.account_id,
            contributed_by_key_id=viewer.api_key_id,
            contributor_territory_id=viewer.territory_id,
            contributor_organization_id=viewer.organization_id,
        )
        await apply_links(RESOURCE.fields, resource.id, changes.links)
        await note_change(
            viewer,
            "resource.contribute",
            resource,
            {"title": [None, resource.title], "status": [None, "SUBMITTED"]},
        )
    return resource


async def list_moderation_queue(viewer: Viewer, *, page: PageRequest) -> Page[Resource]:
    """Contributions waiting for an editor, oldest first."""
    authorize(viewer, "contribution.moderate")
    return await paginate(Resource.filter(status=ContentStatus.SUBMITTED), QUEUE_ORDER, page)


async def list_own_contributions(viewer: Viewer, *, page: PageRequest) -> Page[Resource]:
    """What the viewer (an account or an API key) contributed, with its state."""
    authorize(viewer, "contribution.list_own")
    if viewer.api_key_id is not None:
        rows = Resource.filter(contributed_by_key_id=viewer.api_key_id)
    else:
        rows = Resource.filter(contributed_by_id=viewer.account_id)
    return await paginate(rows, OWN_ORDER, page)


async def _submitted(resource_id: int, version: int) -> Resource:
    resource = await get_for_update(Resource, resource_id, label="Contribution", version=version)
    if resource.status != ContentStatus.SUBMITTED:
        raise Conflict(
            f"Cette ressource n'est pas en attente de modération (état : {resource.status.value}).",
            field="id",
        )
    return resource


async def accept_contribution(viewer: Viewer, resource_id: int, *, version: int) -> Resource:
    """Publish a contribution now, crediting the contributor's territory or organisation."""
    authorize(viewer, "contribution.moderate")
    async with write_transaction():
        resource = await _submitted(resource_id, version)
        credits: dict[str, list[object]] = {}
        if resource.contributor_territory_id is not None:  # type: ignore[attr-defined]
            await ResourceTerritory.get_or_create(
                resource_id=resource.id,
                territory_id=resource.contributor_territory_id,  # type: ignore[attr-defined]
            )
            credits["credited_territory"] = [None, resource.contributor_territory_id]  # type: ignore[attr-defined]
        if resource.contributor_organization_id is not None:  # type: ignore[attr-defined]
            await ResourceOrganization.get_or_create(
                resource_id=resource.id,
                organization_id=resource.contributor_organization_id,  # type: ignore[attr-defined]
            )
            credits["credited_organization"] = [None, resource.contributor_organization_id]  # type: ignore[attr-defined]
        return await update_versioned(
            viewer,
            resource,
            version=version,
            action="resource.accept",
            values={
                "status": ContentStatus.PUBLISHED,
                "published_at": now(),
                "rejection_reason": None,
            },
            extra_changes=credits,
        )


async def reject_contribution(
    viewer: Viewer, resource_id: int, *, version: int, reason: str
) -> Resource:
    """Refuse a contribution with a reason its contributor can read."""
    authorize(viewer, "contribution.moderate")
    reason = clean_text(reason, field="reason", max_length=SUMMARY_MAX)
    async with write_transaction():
        resource = await _submitted(resource_id, version)
        return await update_versioned(
            viewer,
            resource,
            version=version,
            action="resource.reject",
            values={"status": ContentStatus.REJECTED, "rejection_reason": reason},
        )


__all__ = [
    "accept_contribution",
    "contribute_resource",
    "list_moderation_queue",
    "list_own_contributions",
    "reject_contribution",
]
