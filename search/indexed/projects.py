"""Shared projects in the search index: the summary as text, the participating and
observing territories as a facet, the project's theme as a facet value. Drafts are never
indexed; a membership's change re-indexes its project."""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q

from search.documents import LinkedFacet, Searchable, Visibility, register_search
from search.port import Document
from services.projects.content_type import SHARED_PROJECT
from services.projects.models import Membership, ProjectStatus

_NOT_DRAFT = Visibility(
    where=lambda _now: ~Q(status=ProjectStatus.DRAFT),
    check=lambda row, _now: row.status != ProjectStatus.DRAFT,
    scheduled=False,
)


def _fill(row: Any, doc: Document) -> None:
    doc["text"] = row.summary
    doc["themes"] = [row.theme_id]
    doc["kind"] = None


async def _projects_of_memberships(ids: list[int]) -> list[int]:
    return list(await Membership.filter(id__in=ids).values_list("project_id", flat=True))


register_search(
    Searchable(
        content=SHARED_PROJECT,
        facets={"territories": LinkedFacet(Membership, "project_id", "territory")},
        fill=_fill,
        visibility=_NOT_DRAFT,
        parents={"membership": _projects_of_memberships},
    )
)
