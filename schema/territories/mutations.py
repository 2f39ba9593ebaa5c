"""Territory mutations: editors create, change and delete territories."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.inputs import content_inputs, given_fields
from schema.payloads import DeletePayload, payload_mutation
from schema.relay import decode_id
from schema.territories.types import Territory
from services.editing import create_content, delete_content, update_content
from services.territories.content_type import TERRITORY

TerritoryID = Annotated[strawberry.ID, strawberry.argument(description="ID of the territory.")]
TerritoryCreateInput, TerritoryUpdateInput = content_inputs(TERRITORY, "a territory")
CreateTerritoryPayload, UpdateTerritoryPayload = registry.payloads(Territory)


@registry.mutation
@strawberry.type
class TerritoryMutations:
    @payload_mutation(
        CreateTerritoryPayload, description="Create a territory (editors); it is public at once."
    )
    async def create_territory(
        self,
        info: strawberry.Info,
        input: Annotated[TerritoryCreateInput, strawberry.argument(description="Its fields.")],
    ) -> Territory:
        row = await create_content(info.context.viewer, TERRITORY, given_fields(input, TERRITORY))
        return Territory.from_model(row)

    @payload_mutation(
        UpdateTerritoryPayload,
        description="Change a territory (editors). Territories carry no version: "
        "the last write wins.",
    )
    async def update_territory(
        self,
        info: strawberry.Info,
        id: TerritoryID,
        input: Annotated[
            TerritoryUpdateInput, strawberry.argument(description="Fields to change.")
        ],
    ) -> Territory:
        row = await update_content(
            info.context.viewer,
            TERRITORY,
            decode_id(id, "Territory"),
            version=None,
            given=given_fields(input, TERRITORY),
        )
        return Territory.from_model(row)

    @payload_mutation(
        DeletePayload,
        description="Delete a territory for good (editors); CONFLICT while accounts, shared "
        "projects, votes or contributions refer to it.",
    )
    async def delete_territory(self, info: strawberry.Info, id: TerritoryID) -> strawberry.ID:
        await delete_content(
            info.context.viewer, TERRITORY, decode_id(id, "Territory"), version=None
        )
        return id
