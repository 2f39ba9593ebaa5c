"""Organization mutations: editors create, change and delete organisations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.inputs import content_inputs, given_fields
from schema.organizations.types import Organization
from schema.payloads import DeletePayload, payload_mutation
from schema.relay import decode_id
from services.editing import create_content, delete_content, update_content
from services.organizations.content_type import ORGANIZATION

OrganizationID = Annotated[
    strawberry.ID, strawberry.argument(description="ID of the organisation.")
]
OrganizationCreateInput, OrganizationUpdateInput = content_inputs(ORGANIZATION, "an organisation")
CreateOrganizationPayload, UpdateOrganizationPayload = registry.payloads(Organization)


@registry.mutation
@strawberry.type
class OrganizationMutations:
    @payload_mutation(
        CreateOrganizationPayload,
        description="Create an organisation (editors); it is public at once.",
    )
    async def create_organization(
        self,
        info: strawberry.Info,
        input: Annotated[OrganizationCreateInput, strawberry.argument(description="Its fields.")],
    ) -> Organization:
        row = await create_content(
            info.context.viewer, ORGANIZATION, given_fields(input, ORGANIZATION)
        )
        return Organization.from_model(row)

    @payload_mutation(
        UpdateOrganizationPayload,
        description="Change an organisation (editors). Organisations carry no version: "
        "the last write wins.",
    )
    async def update_organization(
        self,
        info: strawberry.Info,
        id: OrganizationID,
        input: Annotated[
            OrganizationUpdateInput, strawberry.argument(description="Fields to change.")
        ],
    ) -> Organization:
        row = await update_content(
            info.context.viewer,
            ORGANIZATION,
            decode_id(id, "Organization"),
            version=None,
            given=given_fields(input, ORGANIZATION),
        )
        return Organization.from_model(row)

    @payload_mutation(
        DeletePayload,
        description="Delete an organisation for good (editors); CONFLICT while accounts, "
        "active API keys, shared projects or contributions refer to it.",
    )
    async def delete_organization(self, info: strawberry.Info, id: OrganizationID) -> strawberry.ID:
        await delete_content(
            info.context.viewer, ORGANIZATION, decode_id(id, "Organization"), version=None
        )
        return id
