"""Editors' writes on concepts of the month: create (as draft), update, delete."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from services.audit.service import diff
from services.concepts.models import Concept, ConceptOrganization
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
from services.validation import (
    SUMMARY_MAX,
    check_slug_free,
    clean_rich_text,
    clean_slug,
    clean_text,
)
from services.viewer import Viewer

_UNSET: Any = object()
CONCEPT_TITLE_MAX = 200  # the column's size
FURTHER_READING_MAX = 300


@dataclass
class ConceptChanges:
    """Fields to set; ``_UNSET`` (the default) leaves a field as it is."""

    title: str = _UNSET
    slug: str = _UNSET
    summary: str = _UNSET
    body: str = _UNSET
    month: dt.date | None = _UNSET
    further_reading: str | None = _UNSET
    organization_ids: list[int] = _UNSET
    links: dict[str, list[int]] = field(default_factory=dict, init=False)

    def given(self, name: str) -> bool:
        return getattr(self, name) is not _UNSET


async def clean_concept_changes(
    changes: ConceptChanges, *, exclude_id: int | None
) -> dict[str, Any]:
    """Validated column values of ``changes`` (links checked and kept on ``changes.links``)."""
    values: dict[str, Any] = {}
    if changes.given("title"):
        values["title"] = clean_text(changes.title, field="title", max_length=CONCEPT_TITLE_MAX)
    if changes.given("slug"):
        values["slug"] = clean_slug(changes.slug)
        await check_slug_free(Concept, values["slug"], exclude_id=exclude_id)
    if changes.given("summary"):
        values["summary"] = clean_text(
            changes.summary, field="summary", max_length=SUMMARY_MAX, required=False
        )
    if changes.given("body"):
        values["body"] = clean_rich_text(changes.body, field="body")
    if changes.given("month"):
        values["month"] = changes.month.replace(day=1) if changes.month else None
    if changes.given("further_reading"):
        reading = changes.further_reading or ""
        values["further_reading"] = (
            clean_text(
                reading, field="further_reading", max_length=FURTHER_READING_MAX, required=False
            )
            or None
        )
    if changes.given("organization_ids"):
        changes.links["organization_ids"] = await check_exist(
            Organization, changes.organization_ids, field="organization_ids"
        )
    return values


async def _apply_links(concept: Concept, links: dict[str, list[int]]) -> dict[str, list[Any]]:
    tables = {"organization_ids": (ConceptOrganization, "organization")}
    return await apply_links("concept", concept.id, links, tables)


async def create_concept(viewer: Viewer, *, changes: ConceptChanges) -> Concept:
    """A new concept, as a draft that only editors see until it is published."""
    authorize(viewer, "concept.create")
    if not changes.given("title"):
        changes.title = ""
    async with write_transaction():
        values = await clean_concept_changes(changes, exclude_id=None)
        concept = await create_draft(Concept, values)
        link_changes = await _apply_links(concept, changes.links)
        await note_change(viewer, "concept.create", concept, {**diff({}, values), **link_changes})
    return concept


async def update_concept(
    viewer: Viewer, concept_id: int, *, version: int, changes: ConceptChanges
) -> Concept:
    """Change the given fields if the concept is still at ``version`` (else CONFLICT)."""
    authorize(viewer, "concept.update")
    async with write_transaction():
        concept = await get_for_update(Concept, concept_id, label="Concept", version=version)
        values = await clean_concept_changes(changes, exclude_id=concept_id)
        link_changes = await _apply_links(concept, changes.links)
        return await update_versioned(
            viewer,
            concept,
            version=version,
            values=values,
            action="concept.update",
            extra_changes=link_changes,
        )


async def delete_concept(viewer: Viewer, concept_id: int, *, version: int) -> Concept:
    """Delete for good (archive instead to keep it for the record)."""
    authorize(viewer, "concept.delete")
    async with write_transaction():
        concept = await get_for_update(Concept, concept_id, label="Concept", version=version)
        await delete_noted(viewer, concept, action="concept.delete", version=version)
    return concept
