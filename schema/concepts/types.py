"""The GraphQL ``Concept`` type."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.concepts import loaders
from schema.enums import ContentStatusEnum
from schema.relay import Node
from services.concepts.models import Concept as ConceptModel

if TYPE_CHECKING:
    from schema.organizations.types import Organization


@strawberry.enum(description="Sort orders of concepts.")
class ConceptOrder(enum.Enum):
    MONTH = strawberry.enum_value("MONTH", description="Most recent concept of the month first.")
    TITLE = strawberry.enum_value("TITLE", description="Alphabetical order (accents ignored).")


@strawberry.type(
    description="A concept of the month (« le concept du mois »): a short introduction to a "
    "notion of democratic theory, e.g. Arnstein's ladder of participation."
)
class Concept(Node):
    slug: str = strawberry.field(description="Unique, URL-friendly name.")
    title: str = strawberry.field(description="Title, in French.")
    summary: str = strawberry.field(description="Opening lines.")
    body: str = strawberry.field(description="Full text; paragraphs separated by blank lines.")
    month: dt.date | None = strawberry.field(description="Month it was the concept of the month.")
    further_reading: str | None = strawberry.field(description="« Pour aller plus loin » hint.")

    status: ContentStatusEnum = strawberry.field(description="Publication state.")
    published_at: dt.datetime | None = strawberry.field(description="Publication time (UTC).")
    version: int = strawberry.field(
        description="Version, incremented by every change: send it back with an update."
    )

    @classmethod
    def from_model(cls, m: ConceptModel) -> Concept:
        return cls(
            pk=m.id,
            slug=m.slug,
            title=m.title,
            summary=m.summary,
            body=m.body,
            month=m.month,
            further_reading=m.further_reading,
            status=m.status,
            published_at=m.published_at,
            version=m.version,
        )

    @strawberry.field(description="Organisations that wrote it.")
    async def organizations(
        self, info: strawberry.Info
    ) -> list[Annotated[Organization, strawberry.lazy("schema.organizations.types")]]:
        from schema.organizations.types import Organization

        rows = await loaders.organizations_by_concept_id(info.context).load(self.pk)
        return [Organization.from_model(o) for o in rows]
