"""Resource mutations: editors' writes and the contribution workflow."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.arguments import Version
from schema.inputs import given, input_type
from schema.payloads import object_payload, payload_mutation
from schema.relay import decode_id
from schema.resources.types import Resource
from schema.writes import Descriptions, content_mutations
from services.fields import Fields
from services.resources import contributions
from services.resources.content_type import RESOURCE

WRITES = content_mutations(
    RESOURCE,
    Resource,
    Descriptions(
        a="a resource",
        the="the resource",
        create="Create a resource as a draft (editors).",
        update="Change a resource (editors).",
        delete="Delete a resource for good (editors); archive it to keep it.",
    ),
)
ResourceCreateInput, ResourceUpdateInput = WRITES.create_input, WRITES.update_input
ResourceID = Annotated[strawberry.ID, strawberry.argument(description="ID of the resource.")]
ResourcePayload = object_payload(
    "ResourcePayload", "resource", Resource, "The resource, as contributed or moderated."
)
assert RESOURCE.fields is not None
_CONTRIBUTED = Fields(*(field for field in RESOURCE.fields if field.name != "slug"))
ContributionInput = input_type(
    "ContributionInput",
    "A resource sent for moderation; the non-null fields are required.",
    _CONTRIBUTED,
    creating=True,
)


@registry.mutation
@strawberry.type
class ResourceMutations:
    @payload_mutation(
        ResourcePayload,
        description="« J'envoie ma ressource »: a local authority or a partner "
        "submits a resource for the next theme; editors moderate it.",
    )
    async def contribute_resource(
        self,
        info: strawberry.Info,
        input: Annotated[ContributionInput, strawberry.argument(description="The resource.")],
    ) -> Resource:
        found = await contributions.contribute_resource(
            info.context.viewer, given(input, _CONTRIBUTED)
        )
        return Resource.from_model(found)

    @payload_mutation(
        ResourcePayload,
        description="Accept a contribution: published now, credited to its contributor (editors).",
    )
    async def accept_contribution(
        self, info: strawberry.Info, id: ResourceID, version: Version
    ) -> Resource:
        found = await contributions.accept_contribution(
            info.context.viewer, decode_id(id, "Resource"), version=version
        )
        return Resource.from_model(found)

    @payload_mutation(
        ResourcePayload,
        description="Reject a contribution with a reason its contributor can read (editors).",
    )
    async def reject_contribution(
        self,
        info: strawberry.Info,
        id: ResourceID,
        version: Version,
        reason: Annotated[str, strawberry.argument(description="Why (shown to the contributor).")],
    ) -> Resource:
        found = await contributions.reject_contribution(
            info.context.viewer, decode_id(id, "Resource"), version=version, reason=reason
        )
        return Resource.from_model(found)
