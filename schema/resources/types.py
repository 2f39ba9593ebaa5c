"""The GraphQL ``Resource`` type and its inputs."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.enums import AudienceEnum, ContentStatusEnum, ResourceKindEnum
from schema.relay import Node
from schema.resources import loaders
from services.errors import BadUserInput
from services.labels import label
from services.resources.models import Resource as ResourceModel

if TYPE_CHECKING:
    from schema.organizations.types import Organization
    from schema.territories.types import Territory
    from schema.themes.types import Theme


@strawberry.enum(description="Sort orders of resources.")
class ResourceOrder(enum.Enum):
    NEWEST = strawberry.enum_value("NEWEST", description="Most recently published first.")
    OLDEST = strawberry.enum_value("OLDEST", description="Earliest published first.")
    TITLE = strawberry.enum_value("TITLE", description="Alphabetical order (accents ignored).")
    RECENTLY_UPDATED = strawberry.enum_value(
        "RECENTLY_UPDATED", description="Last modified first (includes never-published content)."
    )


@strawberry.input(description="Conditions on resources; lists mean « any of », all must hold.")
class ResourceFilter:
    themes: list[strawberry.ID] | None = strawberry.field(
        default=None, description="IDs of themes the resource must have (any of them)."
    )
    kinds: list[ResourceKindEnum] | None = strawberry.field(
        default=None, description="Kinds of resource."
    )
    territories: list[strawberry.ID] | None = strawberry.field(
        default=None, description="IDs of territories the resource concerns."
    )
    organizations: list[strawberry.ID] | None = strawberry.field(
        default=None, description="IDs of organisations behind the resource."
    )
    years: list[int] | None = strawberry.field(
        default=None, description="Years of publication (Europe/Paris)."
    )
    audiences: list[AudienceEnum] | None = strawberry.field(
        default=None, description="Audiences the resource is written for."
    )
    statuses: list[ContentStatusEnum] | None = strawberry.field(
        default=None, description="Publication states (editors only; ignored for others)."
    )


@strawberry.type(
    description="A resource on citizen participation: guide, experience report, toolkit, "
    "survey, dossier, webinar, game, MOOC, report or partner news."
)
class Resource(Node):
    slug: str = strawberry.field(description="Unique, URL-friendly name.")
    title: str = strawberry.field(description="Title, in French.")
    summary: str = strawberry.field(description="Short summary (plain text).")
    body: str = strawberry.field(description="Full text as sanitised HTML (may be empty).")
    kind: ResourceKindEnum = strawberry.field(description="Kind of resource.")
    url: str | None = strawberry.field(description="Link to the resource itself (http/https).")
    audience: AudienceEnum = strawberry.field(description="Who it is written for.")
    status: ContentStatusEnum = strawberry.field(description="Publication state.")
    published_at: dt.datetime | None = strawberry.field(description="Publication time (UTC).")
    updated_at: dt.datetime = strawberry.field(description="Last modification time (UTC).")

    @classmethod
    def from_model(cls, m: ResourceModel) -> Resource:
        return cls(
            pk=m.id,
            slug=m.slug,
            title=m.title,
            summary=m.summary,
            body=m.body,
            kind=m.kind,
            url=m.url,
            audience=m.audience,
            status=m.status,
            published_at=m.published_at,
            updated_at=m.updated_at,
        )

    @strawberry.field(description="French label of the kind, e.g. « Retour d'expérience ».")
    def kind_label(self) -> str:
        return label(self.kind)

    @strawberry.field(description="Themes of the resource.")
    async def themes(
        self, info: strawberry.Info
    ) -> list[Annotated[Theme, strawberry.lazy("schema.themes.types")]]:
        from schema.themes.types import Theme

        rows = await loaders.themes_by_resource_id(info.context).load(self.pk)
        return [Theme.from_model(t) for t in rows]

    @strawberry.field(description="Territories (local authorities) the resource concerns.")
    async def territories(
        self, info: strawberry.Info
    ) -> list[Annotated[Territory, strawberry.lazy("schema.territories.types")]]:
        from schema.territories.types import Territory

        rows = await loaders.territories_by_resource_id(info.context).load(self.pk)
        return [Territory.from_model(t) for t in rows]

    @strawberry.field(description="Organisations behind the resource.")
    async def organizations(
        self, info: strawberry.Info
    ) -> list[Annotated[Organization, strawberry.lazy("schema.organizations.types")]]:
        from schema.organizations.types import Organization

        rows = await loaders.organizations_by_resource_id(info.context).load(self.pk)
        return [Organization.from_model(o) for o in rows]

    @strawberry.field(
        description="Other published resources sharing the most themes with this one."
    )
    async def related(
        self,
        info: strawberry.Info,
        first: Annotated[int, strawberry.argument(description="How many (at most 20).")] = 5,
    ) -> list[Resource]:
        if not 0 <= first <= 20:
            raise BadUserInput("« first » doit être compris entre 0 et 20.", field="first")
        rows = await loaders.related_by_resource_id(info.context, first).load(self.pk)
        return [Resource.from_model(r) for r in rows]
