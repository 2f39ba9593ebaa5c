"""The publication workflow as mutations on any publishable object (resource, event,
concept, theme): publish now or at a date, unpublish, archive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import strawberry

from schema.concepts.types import Concept
from schema.events.types import Event
from schema.relay import Node, from_global_id
from schema.resources.types import Resource
from schema.themes.types import Theme
from services import publishing

_CONVERT: dict[str, Callable[[Any], Node]] = {
    "Resource": Resource.from_model,
    "Event": Event.from_model,
    "Concept": Concept.from_model,
    "Theme": Theme.from_model,
}

ObjectID = Annotated[
    strawberry.ID, strawberry.argument(description="ID of a Resource, Event, Concept or Theme.")
]
Version = Annotated[int, strawberry.argument(description="The `version` you read.")]


@strawberry.type
class PublishingMutations:
    @strawberry.mutation(
        description="Publish now, or at a date: until then the public does not see it (editors)."
    )
    async def publish(
        self,
        info: strawberry.Info,
        id: ObjectID,
        version: Version,
        at: Annotated[
            dt.datetime | None,
            strawberry.argument(
                description="When it becomes public (with a UTC offset); now if omitted."
            ),
        ] = None,
    ) -> Node:
        type_name, pk = from_global_id(id)
        row = await publishing.publish(info.context.viewer, type_name, pk, version=version, at=at)
        return _CONVERT[type_name](row)

    @strawberry.mutation(description="Withdraw from publication: back to draft (editors).")
    async def unpublish(self, info: strawberry.Info, id: ObjectID, version: Version) -> Node:
        type_name, pk = from_global_id(id)
        row = await publishing.unpublish(info.context.viewer, type_name, pk, version=version)
        return _CONVERT[type_name](row)

    @strawberry.mutation(
        description="Archive: kept for the record, invisible to the public (editors)."
    )
    async def archive(self, info: strawberry.Info, id: ObjectID, version: Version) -> Node:
        type_name, pk = from_global_id(id)
        row = await publishing.archive(info.context.viewer, type_name, pk, version=version)
        return _CONVERT[type_name](row)
