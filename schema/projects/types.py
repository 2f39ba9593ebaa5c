"""GraphQL types of shared projects: the project, its memberships and stages."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import strawberry

from schema.directives import VIEWER_DEPENDENT
from schema.enums import mirror
from schema.projects import loaders
from schema.relay import Node
from services.labels import label
from services.projects.editing import can_read_notes
from services.projects.models import Membership as MembershipModel
from services.projects.models import MembershipRole, MembershipStatus, ProjectStatus, StageKind
from services.projects.models import ProjectStage as StageModel
from services.projects.models import SharedProject as ProjectModel

ProjectStatusEnum = mirror(ProjectStatus, "Stage a shared project has reached.")
StageKindEnum = mirror(StageKind, "Kind of stage of a shared project.")
MembershipRoleEnum = mirror(MembershipRole, "How a local authority takes part in a project.")
MembershipStatusEnum = mirror(MembershipStatus, "State of a local authority's membership.")

if TYPE_CHECKING:
    from schema.organizations.types import Organization
    from schema.resources.types import Resource
    from schema.territories.types import Territory
    from schema.themes.types import Theme


PARIS = ZoneInfo("Europe/Paris")


@strawberry.enum(description="Sort orders of shared projects.")
class SharedProjectOrder(enum.Enum):
    NEWEST = strawberry.enum_value("NEWEST", description="Most recently created first.")
    TITLE = strawberry.enum_value("TITLE", description="Alphabetical order (accents ignored).")


@strawberry.type(description="A local authority's place in a shared project.")
class Membership(Node):
    role: MembershipRoleEnum = strawberry.field(description="Participant or observer.")
    status: MembershipStatusEnum = strawberry.field(description="State of the membership.")
    action_plan: str = strawberry.field(
        description="The participant's own action plan (sanitised HTML)."
    )
    confirmed_at: dt.datetime | None = strawberry.field(description="When editors confirmed it.")
    project_pk: strawberry.Private[int]
    territory_pk: strawberry.Private[int]
    notes: strawberry.Private[str]

    @strawberry.field(
        description="Diagnostic notes (private: editors and the authority's own "
        "members; null for others).",
        directives=[VIEWER_DEPENDENT],
    )
    def diagnostic_notes(self, info: strawberry.Info) -> str | None:
        return self.notes if can_read_notes(info.context.viewer, self.territory_pk) else None

    @classmethod
    def from_model(cls, m: MembershipModel) -> Membership:
        return cls(
            action_plan=m.action_plan,
            confirmed_at=m.confirmed_at,
            notes=m.diagnostic_notes,
            pk=m.id,
            role=m.role,
            status=m.status,
            project_pk=m.project_id,
            territory_pk=m.territory_id,
        )

    @strawberry.field(description="The local authority.")
    async def territory(
        self, info: strawberry.Info
    ) -> Annotated[Territory, strawberry.lazy("schema.territories.types")]:
        from schema.territories.loaders import territory_by_id
        from schema.territories.types import Territory

        return Territory.from_model(await territory_by_id(info.context).load(self.territory_pk))

    @strawberry.field(description="The shared project.")
    async def project(self, info: strawberry.Info) -> SharedProject | None:
        found = await loaders.shared_project_by_id(info.context).load(self.project_pk)
        return SharedProject.from_model(found) if found else None


@strawberry.type(description="A news item of a shared project.")
class ProjectNews:
    title: str = strawberry.field(description="Title, in French.")
    body: str = strawberry.field(description="Text (sanitised HTML).")
    published_at: dt.datetime = strawberry.field(description="Publication time (UTC).")


@strawberry.type(description="A dated stage of a shared project.")
class ProjectStage:
    kind: StageKindEnum = strawberry.field(description="Kind of stage.")
    position: int = strawberry.field(description="Order of the stage in the project (from 1).")
    title: str = strawberry.field(description="Title, in French.")
    description: str = strawberry.field(description="What happens during the stage.")
    starts_on: dt.date | None = strawberry.field(description="First day.")
    ends_on: dt.date | None = strawberry.field(description="Last day.")
    territory_pk: strawberry.Private[int | None]

    @strawberry.field(description="The territory of a diagnostic stage (one per participant).")
    async def territory(
        self, info: strawberry.Info
    ) -> Annotated[Territory, strawberry.lazy("schema.territories.types")] | None:
        from schema.territories.loaders import territory_by_id
        from schema.territories.types import Territory

        if self.territory_pk is None:
            return None
        found = await territory_by_id(info.context).load(self.territory_pk)
        return Territory.from_model(found) if found else None

    @classmethod
    def from_model(cls, m: StageModel) -> ProjectStage:
        return cls(
            territory_pk=m.territory_id,  # type: ignore[attr-defined]
            kind=m.kind,
            position=m.position,
            title=m.title,
            description=m.description,
            starts_on=m.starts_on,
            ends_on=m.ends_on,
        )


@strawberry.type(
    description="A shared project (« projet partagé »): one strategic theme, 3 to 5 local "
    "authorities as participants, any number of observers, 6 to 12 months of "
    "accompaniment funded by ANCT."
)
class SharedProject(Node):
    slug: str = strawberry.field(description="Unique, URL-friendly name.")
    title: str = strawberry.field(description="Title, in French.")
    summary: str = strawberry.field(description="What the project is about.")
    status: ProjectStatusEnum = strawberry.field(description="Stage the project has reached.")
    starts_on: dt.date | None = strawberry.field(description="Start of the accompaniment.")
    ends_on: dt.date | None = strawberry.field(description="End of the accompaniment.")
    theme_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: ProjectModel) -> SharedProject:
        return cls(
            pk=m.id,
            slug=m.slug,
            title=m.title,
            summary=m.summary,
            status=m.status,
            starts_on=m.starts_on,
            ends_on=m.ends_on,
            theme_pk=m.theme_id,
        )

    @strawberry.field(description="French label of the status.")
    def status_label(self) -> str:
        return label(self.status)

    @strawberry.field(description="The strategic theme of the project.")
    async def theme(
        self, info: strawberry.Info
    ) -> Annotated[Theme, strawberry.lazy("schema.themes.types")] | None:
        from schema.themes.loaders import theme_by_id
        from schema.themes.types import Theme

        found = await theme_by_id(info.context).load(self.theme_pk)
        return Theme.from_model(found) if found else None

    async def _members(self, info: strawberry.Info, role: MembershipRole) -> list[Membership]:
        rows = await loaders.memberships_by_project_id(info.context).load(self.pk)
        return [
            Membership.from_model(m)
            for m in rows
            if m.role == role and m.status in (MembershipStatus.CONFIRMED, MembershipStatus.APPLIED)
        ]

    @strawberry.field(description="Participating local authorities (3 to 5), applied or confirmed.")
    async def participants(self, info: strawberry.Info) -> list[Membership]:
        return await self._members(info, MembershipRole.PARTICIPANT)

    @strawberry.field(description="Observing local authorities.")
    async def observers(self, info: strawberry.Info) -> list[Membership]:
        return await self._members(info, MembershipRole.OBSERVER)

    @strawberry.field(description="Dated stages, in order.")
    async def stages(self, info: strawberry.Info) -> list[ProjectStage]:
        rows = await loaders.stages_by_project_id(info.context).load(self.pk)
        return [ProjectStage.from_model(s) for s in rows]

    @strawberry.field(
        description="The stage under way today (for a newsletter: on the issue's date), by "
        "the stages' dates; null before the first stage, between stages and after the last."
    )
    async def current_stage(self, info: strawberry.Info) -> ProjectStage | None:
        from services.projects.service import stage_on

        rows = await loaders.stages_by_project_id(info.context).load(self.pk)
        found = stage_on(rows, info.context.now.astimezone(PARIS).date())
        return ProjectStage.from_model(found) if found else None

    @strawberry.field(description="News items of the project, newest first.")
    async def news(self, info: strawberry.Info) -> list[ProjectNews]:
        rows = await loaders.news_by_project_id(info.context).load(self.pk)
        return [ProjectNews(title=n.title, body=n.body, published_at=n.published_at) for n in rows]

    @strawberry.field(
        description="Resources linked to the project (published ones for the public)."
    )
    async def resources(
        self, info: strawberry.Info
    ) -> list[Annotated[Resource, strawberry.lazy("schema.resources.types")]]:
        from schema.resources.types import Resource

        rows = await loaders.resources_by_project_id(info.context).load(self.pk)
        return [Resource.from_model(r) for r in rows]

    @strawberry.field(description="Organisations providing the accompaniment.")
    async def providers(
        self, info: strawberry.Info
    ) -> list[Annotated[Organization, strawberry.lazy("schema.organizations.types")]]:
        from schema.organizations.types import Organization

        rows = await loaders.providers_by_project_id(info.context).load(self.pk)
        return [Organization.from_model(o) for o in rows]
