"""Territory mutations: editors create, change and delete local authorities."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.enums import TerritoryLevelEnum
from schema.relay import Deleted, decode_id
from schema.territories.types import Territory
from services.errors import BadUserInput
from services.territories import editing

TerritoryID = Annotated[strawberry.ID, strawberry.argument(description="ID of the territory.")]


@strawberry.input(
    description="Fields of a territory. On update, omitted fields are left as they are."
)
class TerritoryInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Name (≤ 200), e.g. « Niort »."
    )
    slug: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="URL name (a-z, 0-9, dashes); generated from the name when omitted.",
    )
    level: TerritoryLevelEnum | None = strawberry.field(
        default=strawberry.UNSET, description="Level of the local authority; required on creation."
    )
    insee_code: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Official code (INSEE code of a commune, number of a département, SIREN), "
        "unique; null removes it.",
    )


_FIELDS = ("name", "slug", "level", "insee_code")
_NULLABLE = ("insee_code",)


def to_changes(data: TerritoryInput) -> editing.TerritoryChanges:
    """The service's change set; null is refused where a value is required."""
    changes = editing.TerritoryChanges()
    for name in _FIELDS:
        value = getattr(data, name)
        if value is strawberry.UNSET:
            continue
        if value is None and name not in _NULLABLE:
            raise BadUserInput(f"« {name} » ne peut pas être null.", field=name)
        setattr(changes, name, value)
    return changes


def territory_pk(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Territory")


@strawberry.type
class TerritoryMutations:
    @strawberry.mutation(description="Create a territory (editors); it is public at once.")
    async def create_territory(
        self,
        info: strawberry.Info,
        input: Annotated[TerritoryInput, strawberry.argument(description="Its fields.")],
    ) -> Territory:
        found = await editing.create_territory(info.context.viewer, changes=to_changes(input))
        return Territory.from_model(found)

    @strawberry.mutation(
        description="Change a territory (editors). Territories carry no version: "
        "the last write wins."
    )
    async def update_territory(
        self,
        info: strawberry.Info,
        id: TerritoryID,
        input: Annotated[TerritoryInput, strawberry.argument(description="Fields to change.")],
    ) -> Territory:
        found = await editing.update_territory(
            info.context.viewer, territory_pk(id), changes=to_changes(input)
        )
        return Territory.from_model(found)

    @strawberry.mutation(
        description="Delete a territory for good (editors); CONFLICT while accounts, shared "
        "projects, votes or contributions refer to it."
    )
    async def delete_territory(self, info: strawberry.Info, id: TerritoryID) -> Deleted:
        await editing.delete_territory(info.context.viewer, territory_pk(id))
        return Deleted(id=id)
