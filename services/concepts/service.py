"""Reading the concepts of the month."""

from __future__ import annotations

from collections.abc import Sequence

from services.concepts.models import Concept, ConceptOrganization
from services.links import children_by_parent
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


async def list_concepts(viewer: Viewer, *, order: str | None, page: PageRequest) -> Page[Concept]:
    return await paginate(Concept.filter(visible(viewer)), ORDERINGS[order or "MONTH"], page)


async def get_concept_by_slug(viewer: Viewer, slug: str) -> Concept | None:
    return await Concept.filter(visible(viewer), slug=slug).first()


async def get_concepts_by_ids(viewer: Viewer, ids: Sequence[int]) -> dict[int, Concept]:
    return await instances_by_ids(Concept, visible(viewer), ids)


async def get_organizations_by_concept_ids(ids: Sequence[int]) -> dict[int, list[Organization]]:
    return await children_by_parent(
        ConceptOrganization,
        parent="concept",
        child="organization",
        parent_ids=ids,
        child_order=("slug",),
    )
