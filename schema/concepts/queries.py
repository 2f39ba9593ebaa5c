"""Concept queries."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from schema import registry
from schema.caching import public_read
from schema.compiler.coverage import compiled_table, order_argument
from schema.concepts.loaders import concept_by_id
from schema.concepts.types import Concept, ConceptOrder
from schema.relay import After, Before, Connection, First, Last, connection, page_request
from services.concepts import service
from services.concepts.models import Concept as ConceptModel
from services.viewer import Viewer


@registry.query
@strawberry.type
class ConceptQueries:
    @public_read(description="Concepts of the month, most recent first.")
    async def concepts(
        self,
        info: strawberry.Info,
        order: Annotated[
            ConceptOrder | None, strawberry.argument(description="Sort order.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Concept]:
        page = await service.list_concepts(
            info.context.viewer,
            order=order.value if order else None,
            page=page_request(info, first, after, last, before),
        )
        return connection(page, Concept.from_model)

    @public_read(description="The concept with this slug, or null.")
    async def concept(
        self,
        info: strawberry.Info,
        slug: Annotated[str, strawberry.argument(description="Slug of the concept.")],
    ) -> Concept | None:
        found = await service.get_concept_by_slug(info.context.viewer, slug)
        return Concept.from_model(found) if found else None


registry.node_type("Concept", Concept, concept_by_id)


def _listed(viewer: Viewer, args: dict[str, Any], now: dt.datetime) -> Any:
    return service.concepts_queryset(viewer, order=order_argument(args), now=now)


compiled_table(
    "Concept",
    ConceptModel,
    listed=("concepts", _listed),
    by_slug=("concept", service.concept_by_slug_queryset),
    by_id=service.concept_by_id_queryset,
    links={"organizations": service.ORGANIZATIONS},
)
