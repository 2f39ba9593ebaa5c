"""Shared-project mutations: editors run projects, local authorities apply to them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from schema import registry
from schema.payloads import object_payload, payload_mutation
from schema.projects.types import Membership, MembershipRoleEnum, SharedProject
from schema.relay import decode_id, decode_ids
from services.projects import editing

ProjectID = Annotated[strawberry.ID, strawberry.argument(description="ID of the shared project.")]
MembershipID = Annotated[strawberry.ID, strawberry.argument(description="ID of the membership.")]
CreateSharedProjectPayload, UpdateSharedProjectPayload = registry.payloads(SharedProject)
SharedProjectPayload = object_payload(
    "SharedProjectPayload", "shared_project", SharedProject, "The shared project, as it is now."
)
MembershipPayload = object_payload(
    "MembershipPayload", "membership", Membership, "The membership, as it is now."
)


@strawberry.input(description="Fields of a shared project to change; omitted fields stay.")
class SharedProjectUpdateInput:
    title: str | None = strawberry.field(default=None, description="Title, in French.")
    summary: str | None = strawberry.field(default=None, description="What it is about.")
    starts_on: dt.date | None = strawberry.field(default=None, description="Start.")
    ends_on: dt.date | None = strawberry.field(
        default=None, description="End: 6 to 12 months after the start."
    )
    providers: list[strawberry.ID] | None = strawberry.field(
        default=None, description="IDs of the organisations providing the accompaniment."
    )
    resources: list[strawberry.ID] | None = strawberry.field(
        default=None, description="IDs of the resources linked to the project."
    )


@strawberry.input(
    description="Fields of a shared project to create; the non-null ones are required."
)
class SharedProjectCreateInput(SharedProjectUpdateInput):
    title: str = strawberry.field(description="Title, in French.")
    theme: strawberry.ID = strawberry.field(description="ID of its strategic theme.")


def _changes(
    data: SharedProjectCreateInput | SharedProjectUpdateInput,
) -> editing.ProjectChanges:
    theme = getattr(data, "theme", None)
    return editing.ProjectChanges(
        title=data.title,
        summary=data.summary,
        theme_id=decode_id(theme, "Theme", "theme") if theme else None,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        provider_ids=None
        if data.providers is None
        else decode_ids(data.providers, "Organization", "providers"),
        resource_ids=None
        if data.resources is None
        else decode_ids(data.resources, "Resource", "resources"),
    )


def _project(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "SharedProject", "project")


def _membership(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Membership", "membership")


@registry.mutation
@strawberry.type
class SharedProjectMutations:
    @payload_mutation(
        CreateSharedProjectPayload, description="Create a shared project as a draft (editors)."
    )
    async def create_shared_project(
        self,
        info: strawberry.Info,
        input: Annotated[SharedProjectCreateInput, strawberry.argument(description="Its fields.")],
    ) -> SharedProject:
        found = await editing.create_shared_project(info.context.viewer, changes=_changes(input))
        return SharedProject.from_model(found)

    @payload_mutation(UpdateSharedProjectPayload, description="Change a shared project (editors).")
    async def update_shared_project(
        self,
        info: strawberry.Info,
        id: ProjectID,
        input: Annotated[SharedProjectUpdateInput, strawberry.argument(description="Changes.")],
    ) -> SharedProject:
        found = await editing.update_shared_project(
            info.context.viewer, _project(id), changes=_changes(input)
        )
        return SharedProject.from_model(found)

    @payload_mutation(
        SharedProjectPayload, description="Publish a draft project and open it to applications."
    )
    async def open_shared_project(self, info: strawberry.Info, id: ProjectID) -> SharedProject:
        found = await editing.open_shared_project(info.context.viewer, _project(id))
        return SharedProject.from_model(found)

    @payload_mutation(
        SharedProjectPayload,
        description="Start the accompaniment: needs 3 to 5 confirmed "
        "participants; lays out the dated stages (editors).",
    )
    async def start_shared_project(
        self,
        info: strawberry.Info,
        id: ProjectID,
        starts_on: Annotated[dt.date | None, strawberry.argument(description="Start.")] = None,
        ends_on: Annotated[
            dt.date | None,
            strawberry.argument(description="End, 6 to 12 months later (12 months if omitted)."),
        ] = None,
    ) -> SharedProject:
        found = await editing.start_shared_project(
            info.context.viewer, _project(id), starts_on=starts_on, ends_on=ends_on
        )
        return SharedProject.from_model(found)

    @payload_mutation(
        SharedProjectPayload, description="Move a started project to its next stage (editors)."
    )
    async def advance_shared_project(self, info: strawberry.Info, id: ProjectID) -> SharedProject:
        found = await editing.advance_shared_project(info.context.viewer, _project(id))
        return SharedProject.from_model(found)

    @payload_mutation(
        MembershipPayload,
        description="Apply, for your local authority, as participant (5 "
        "seats; SEAT_TAKEN when full) or observer (unlimited).",
    )
    async def apply_to_project(
        self,
        info: strawberry.Info,
        project: ProjectID,
        role: Annotated[MembershipRoleEnum, strawberry.argument(description="How to take part.")],
    ) -> Membership:
        found = await editing.apply_to_project(info.context.viewer, _project(project), role=role)
        return Membership.from_model(found)

    @payload_mutation(
        MembershipPayload, description="Withdraw your local authority from a project."
    )
    async def withdraw_from_project(self, info: strawberry.Info, project: ProjectID) -> Membership:
        found = await editing.withdraw_from_project(info.context.viewer, _project(project))
        return Membership.from_model(found)

    @payload_mutation(MembershipPayload, description="Confirm an application (editors).")
    async def confirm_membership(self, info: strawberry.Info, id: MembershipID) -> Membership:
        found = await editing.decide_membership(info.context.viewer, _membership(id), confirm=True)
        return Membership.from_model(found)

    @payload_mutation(
        MembershipPayload, description="Decline an application, freeing its seat (editors)."
    )
    async def decline_membership(self, info: strawberry.Info, id: MembershipID) -> Membership:
        found = await editing.decide_membership(info.context.viewer, _membership(id), confirm=False)
        return Membership.from_model(found)

    @payload_mutation(
        MembershipPayload,
        description="Write a participant's action plan or diagnostic notes "
        "(its own members, or editors).",
    )
    async def update_membership(
        self,
        info: strawberry.Info,
        id: MembershipID,
        action_plan: Annotated[
            str | None, strawberry.argument(description="Action plan (HTML, sanitised).")
        ] = None,
        diagnostic_notes: Annotated[
            str | None,
            strawberry.argument(description="Diagnostic notes (HTML, sanitised; private)."),
        ] = None,
    ) -> Membership:
        found = await editing.update_membership(
            info.context.viewer,
            _membership(id),
            action_plan=action_plan,
            diagnostic_notes=diagnostic_notes,
        )
        return Membership.from_model(found)

    @payload_mutation(
        SharedProjectPayload, description="Publish a news item on a project (editors)."
    )
    async def publish_project_news(
        self,
        info: strawberry.Info,
        project: ProjectID,
        title: Annotated[str, strawberry.argument(description="Title.")],
        body: Annotated[str, strawberry.argument(description="Text (HTML, sanitised).")],
    ) -> SharedProject:
        await editing.publish_project_news(
            info.context.viewer, _project(project), title=title, body=body
        )
        from services.projects.models import SharedProject as ProjectModel

        return SharedProject.from_model(await ProjectModel.get(id=_project(project)))
