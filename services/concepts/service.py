"""Reading the concepts of the month."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from tortoise.queryset import QuerySet

from services.concepts.models import Concept, ConceptOrganization
from services.links import Linked
from services.organizations.models import Organization
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.statements import instances_by_ids
from services.viewer import Viewer, visible

ORDERINGS: dict[str, Ordering] = {
    "MONTH": Ordering(
        (SortKey("month", True, "date"), SortKey("id", True, "int")), require_first_key=True
    ),
    "TITLE": Ordering((SortKey("slug", False, "str"), SortKey("id", False, "int"))),
}


ORGANIZATIONS = Linked(ConceptOrganization, parent="concept", child="organization", order=("slug",))
"""The organisations that wrote a concept, by slug."""


def concepts_queryset(
    viewer: Viewer, *, order: str | None, now: dt.datetime | None = None
) -> tuple[QuerySet[Concept], Ordering]:
    """The concepts ``viewer`` may see at ``now`` (:func:`visible`), and the order they are
    listed in."""
    return Concept.filter(visible(viewer, now=now)), ORDERINGS[order or "MONTH"]


async def list_concepts(viewer: Viewer, *, order: str | None, page: PageRequest) -> Page[Concept]:
    queryset, ordering = concepts_queryset(viewer, order=order)
    return await paginate(queryset, ordering, page)


def concept_by_slug_queryset(viewer: Viewer, slug: str) -> QuerySet[Concept]:
    """The concept with this slug if ``viewer`` may see it (at most one row)."""
    return Concept.filter(visible(viewer), slug=slug).limit(1)


async def get_concept_by_slug(viewer: Viewer, slug: str) -> Concept | None:
    return await concept_by_slug_queryset(viewer, slug).first()


def concept_by_id_queryset(viewer: Viewer, pk: int) -> QuerySet[Concept]:
    """The concept ``pk`` if ``viewer`` may see it (at most one row)."""
    return Concept.filter(visible(viewer), id=pk).limit(1)


async def get_concepts_by_ids(viewer: Viewer, ids: Sequence[int]) -> dict[int, Concept]:
    return await instances_by_ids(Concept, visible(viewer), ids)


async def get_organizations_by_concept_ids(ids: Sequence[int]) -> dict[int, list[Organization]]:
    return await ORGANIZATIONS.children(ids)
