"""The GraphQL ``Resource`` type and its inputs."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.directives import VIEWER_DEPENDENT
from schema.enums import ContentStatusEnum, mirror
from schema.relay import Node
from schema.resources import loaders
from services.content import Audience
from services.labels import label
from services.policy import is_allowed
from services.resources.models import Resource as ResourceModel
from services.resources.models import ResourceKind
from services.resources.service import check_related_limit
from services.viewer import Viewer

ResourceKindEnum = mirror(ResourceKind, "Kind of resource (guide, experience report…).")
AudienceEnum = mirror(Audience, "Who a resource is written for.")

if TYPE_CHECKING:
    from schema.organizations.types import Organization
    from schema.territories.types import Territory
    from schema.themes.types import Theme


def reads_every_rejection_reason(viewer: Viewer) -> bool:
    """Whether ``viewer`` reads ``rejectionReason`` on every resource (moderators), not
    only on its own contributions."""
    return is_allowed(viewer, "contribution.moderate")


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
    version: int = strawberry.field(
        description="Version, incremented by every change: send it back with an update; a "
        "newer version on the server makes the update fail with CONFLICT."
    )
    submitted_at: dt.datetime | None = strawberry.field(
        description="When it was contributed (« J'envoie ma ressource »), if it was."
    )
    rejection_text: strawberry.Private[str | None]
    contributed_by_pk: strawberry.Private[int | None]
    contributed_by_key_pk: strawberry.Private[int | None]
    contributor_territory_pk: strawberry.Private[int | None]
    contributor_organization_pk: strawberry.Private[int | None]

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
            version=m.version,
            submitted_at=m.submitted_at,
            rejection_text=m.rejection_reason,
            contributed_by_pk=m.contributed_by_id,  # type: ignore[attr-defined]
            contributed_by_key_pk=m.contributed_by_key_id,  # type: ignore[attr-defined]
            contributor_territory_pk=m.contributor_territory_id,  # type: ignore[attr-defined]
            contributor_organization_pk=m.contributor_organization_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(
        description="Why editors rejected the contribution (private: editors and the "
        "contributor only; null for others).",
        directives=[VIEWER_DEPENDENT],
    )
    def rejection_reason(self, info: strawberry.Info) -> str | None:
        viewer = info.context.viewer
        is_contributor = (
            viewer.account_id is not None and viewer.account_id == self.contributed_by_pk
        ) or (viewer.api_key_id is not None and viewer.api_key_id == self.contributed_by_key_pk)
        if is_contributor or reads_every_rejection_reason(viewer):
            return self.rejection_text
        return None

    @strawberry.field(description="The local authority credited for contributing it.")
    async def contributor_territory(
        self, info: strawberry.Info
    ) -> Annotated[Territory, strawberry.lazy("schema.territories.types")] | None:
        from schema.territories.loaders import territory_by_id
        from schema.territories.types import Territory

        if self.contributor_territory_pk is None:
            return None
        found = await territory_by_id(info.context).load(self.contributor_territory_pk)
        return Territory.from_model(found) if found else None

    @strawberry.field(description="The organisation credited for contributing it.")
    async def contributor_organization(
        self, info: strawberry.Info
    ) -> Annotated[Organization, strawberry.lazy("schema.organizations.types")] | None:
        from schema.organizations.loaders import organization_by_id
        from schema.organizations.types import Organization

        if self.contributor_organization_pk is None:
            return None
        found = await organization_by_id(info.context).load(self.contributor_organization_pk)
        return Organization.from_model(found) if found else None

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
        check_related_limit(first)
        rows = await loaders.related_by_resource_id(info.context, first).load(self.pk)
        return [Resource.from_model(r) for r in rows]
