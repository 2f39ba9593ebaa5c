"""Editors' writes on resources: create (as draft), update, delete."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.audit.service import diff
from services.content import Audience
from services.editing import (
    apply_links,
    check_exist,
    create_draft,
    delete_noted,
    get_for_update,
    note_change,
    update_versioned,
    write_transaction,
)
from services.organizations.models import Organization
from services.policy import authorize
from services.resources.models import (
    Resource,
    ResourceKind,
    ResourceOrganization,
    ResourceTerritory,
    ResourceTheme,
)
from services.territories.models import Territory
from services.themes.models import Theme
from services.validation import (
    SUMMARY_MAX,
    TITLE_MAX,
    check_slug_free,
    clean_rich_text,
    clean_slug,
    clean_text,
    clean_url,
)
from services.viewer import Viewer

_UNSET: Any = object()


@dataclass
class ResourceChanges:
    """Fields to set; ``_UNSET`` (the default) leaves a field as it is."""

    title: str = _UNSET
    slug: str = _UNSET
    summary: str = _UNSET
    body: str = _UNSET
    kind: ResourceKind = _UNSET
    url: str | None = _UNSET
    audience: Audience = _UNSET
    theme_ids: list[int] = _UNSET
    territory_ids: list[int] = _UNSET
    organization_ids: list[int] = _UNSET
    links: dict[str, list[int]] = field(default_factory=dict, init=False)

    def given(self, name: str) -> bool:
        return getattr(self, name) is not _UNSET


async def clean_resource_changes(
    changes: ResourceChanges, *, exclude_id: int | None
) -> dict[str, Any]:
    """Validated column values of ``changes`` (links checked and kept on ``changes.links``)."""
    values: dict[str, Any] = {}
    if changes.given("title"):
        values["title"] = clean_text(changes.title, field="title", max_length=TITLE_MAX)
    if changes.given("slug"):
        values["slug"] = clean_slug(changes.slug)
        await check_slug_free(Resource, values["slug"], exclude_id=exclude_id)
    if changes.given("summary"):
        values["summary"] = clean_text(
            changes.summary, field="summary", max_length=SUMMARY_MAX, required=False
        )
    if changes.given("body"):
        values["body"] = clean_rich_text(changes.body, field="body")
    if changes.given("kind"):
        values["kind"] = ResourceKind(changes.kind)
    if changes.given("url"):
        values["url"] = clean_url(changes.url, field="url")
    if changes.given("audience"):
        values["audience"] = Audience(changes.audience)
    for name, model in (
        ("theme_ids", Theme),
        ("territory_ids", Territory),
        ("organization_ids", Organization),
    ):
        if changes.given(name):
            changes.links[name] = await check_exist(model, getattr(changes, name), field=name)
    return values


_LINKS = {
    "theme_ids": (ResourceTheme, "theme"),
    "territory_ids": (ResourceTerritory, "territory"),
    "organization_ids": (ResourceOrganization, "organization"),
}


async def apply_resource_links(
    resource: Resource, links: dict[str, list[int]]
) -> dict[str, list[Any]]:
    return await apply_links("resource", resource.id, links, _LINKS)


async def create_resource(viewer: Viewer, *, changes: ResourceChanges) -> Resource:
    """A new resource, as a draft that only editors see until it is published."""
    authorize(viewer, "resource.create")
    if not changes.given("title"):
        changes.title = ""
    async with write_transaction():
        values = await clean_resource_changes(changes, exclude_id=None)
        resource = await create_draft(Resource, values)
        await apply_resource_links(resource, changes.links)
        await note_change(viewer, "resource.create", resource, diff({}, values))
    return resource


async def update_resource(
    viewer: Viewer, resource_id: int, *, version: int, changes: ResourceChanges
) -> Resource:
    """Change the given fields if the resource is still at ``version`` (else CONFLICT)."""
    authorize(viewer, "resource.update")
    async with write_transaction():
        resource = await get_for_update(Resource, resource_id, label="Ressource", version=version)
        values = await clean_resource_changes(changes, exclude_id=resource_id)
        link_changes = await apply_resource_links(resource, changes.links)
        return await update_versioned(
            viewer,
            resource,
            version=version,
            values=values,
            action="resource.update",
            extra_changes=link_changes,
        )


async def delete_resource(viewer: Viewer, resource_id: int, *, version: int) -> Resource:
    """Delete for good (archive instead to keep it for the record)."""
    authorize(viewer, "resource.delete")
    async with write_transaction():
        resource = await get_for_update(Resource, resource_id, label="Ressource", version=version)
        await delete_noted(viewer, resource, action="resource.delete", version=version)
    return resource
