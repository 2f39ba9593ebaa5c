"""Resource mutations: editors' writes and the contribution workflow."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.enums import AudienceEnum, ResourceKindEnum
from schema.relay import Deleted, decode_id, decode_ids
from schema.resources.types import Resource
from services.errors import BadUserInput
from services.resources import contributions, editing

ResourceID = Annotated[strawberry.ID, strawberry.argument(description="ID of the resource.")]
Version = Annotated[
    int,
    strawberry.argument(
        description="The `version` you read; a newer one on the server "
        "makes the mutation fail with CONFLICT."
    ),
]


@strawberry.input(
    description="Fields of a resource. On update, omitted fields are left as they are."
)
class ResourceInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="Title (≤ 300).")
    slug: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="URL name (a-z, 0-9, dashes); generated from the title when omitted.",
    )
    summary: str | None = strawberry.field(
        default=strawberry.UNSET, description="Plain-text summary (≤ 2,000)."
    )
    body: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Rich text as HTML (≤ 100,000); sanitised with an allow-list.",
    )
    kind: ResourceKindEnum | None = strawberry.field(
        default=strawberry.UNSET, description="Kind of resource."
    )
    url: str | None = strawberry.field(
        default=strawberry.UNSET, description="Link (http or https only); null removes it."
    )
    audience: AudienceEnum | None = strawberry.field(
        default=strawberry.UNSET, description="Who it is written for."
    )
    themes: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="IDs of its themes (replaces the list)."
    )
    territories: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="IDs of the territories it concerns."
    )
    organizations: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="IDs of the organisations behind it."
    )


_NOT_NULL = ("title", "slug", "summary", "body", "kind", "audience")


def to_changes(data: ResourceInput) -> editing.ResourceChanges:
    """The service's change set; null is refused where a value is required."""
    changes = editing.ResourceChanges()
    for name in ("title", "slug", "summary", "body", "kind", "url", "audience"):
        value = getattr(data, name)
        if value is strawberry.UNSET:
            continue
        if value is None and name in _NOT_NULL:
            raise BadUserInput(f"« {name} » ne peut pas être null.", field=name)
        setattr(changes, name, value)
    for name, type_name, target in (
        ("themes", "Theme", "theme_ids"),
        ("territories", "Territory", "territory_ids"),
        ("organizations", "Organization", "organization_ids"),
    ):
        value = getattr(data, name)
        if value is not strawberry.UNSET:
            setattr(changes, target, decode_ids(value or (), type_name, name))
    return changes


def resource_pk(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Resource")


@strawberry.type
class ResourceMutations:
    @strawberry.mutation(description="Create a resource as a draft (editors).")
    async def create_resource(
        self,
        info: strawberry.Info,
        input: Annotated[ResourceInput, strawberry.argument(description="Its fields.")],
    ) -> Resource:
        found = await editing.create_resource(info.context.viewer, changes=to_changes(input))
        return Resource.from_model(found)

    @strawberry.mutation(description="Change a resource (editors).")
    async def update_resource(
        self,
        info: strawberry.Info,
        id: ResourceID,
        version: Version,
        input: Annotated[ResourceInput, strawberry.argument(description="Fields to change.")],
    ) -> Resource:
        found = await editing.update_resource(
            info.context.viewer, resource_pk(id), version=version, changes=to_changes(input)
        )
        return Resource.from_model(found)

    @strawberry.mutation(description="Delete a resource for good (editors); archive it to keep it.")
    async def delete_resource(
        self, info: strawberry.Info, id: ResourceID, version: Version
    ) -> Deleted:
        await editing.delete_resource(info.context.viewer, resource_pk(id), version=version)
        return Deleted(id=id)

    @strawberry.mutation(
        description="« J'envoie ma ressource »: a local authority or a partner "
        "submits a resource for the next theme; editors moderate it."
    )
    async def contribute_resource(
        self,
        info: strawberry.Info,
        input: Annotated[ResourceInput, strawberry.argument(description="The resource.")],
    ) -> Resource:
        found = await contributions.contribute_resource(
            info.context.viewer, changes=to_changes(input)
        )
        return Resource.from_model(found)

    @strawberry.mutation(
        description="Accept a contribution: published now, credited to its contributor (editors)."
    )
    async def accept_contribution(
        self, info: strawberry.Info, id: ResourceID, version: Version
    ) -> Resource:
        found = await contributions.accept_contribution(
            info.context.viewer, resource_pk(id), version=version
        )
        return Resource.from_model(found)

    @strawberry.mutation(
        description="Reject a contribution with a reason its contributor can read (editors)."
    )
    async def reject_contribution(
        self,
        info: strawberry.Info,
        id: ResourceID,
        version: Version,
        reason: Annotated[str, strawberry.argument(description="Why (shown to the contributor).")],
    ) -> Resource:
        found = await contributions.reject_contribution(
            info.context.viewer, resource_pk(id), version=version, reason=reason
        )
        return Resource.from_model(found)
