"""The publication workflow as mutations on any publishable content type (declared
``publishable`` in ``services/<domain>/content_type.py``): publish now or at a date,
unpublish, archive."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from schema import registry
from schema.arguments import Version
from schema.payloads import object_payload, payload_mutation
from schema.relay import Node, from_global_id
from services import publishing


def _converted(type_name: str, row: Any) -> Node:
    return registry.node_types()[type_name].convert(row)


PublicationPayload = object_payload(
    "PublicationPayload", "node", Node, "The content, as published, unpublished or archived."
)

ObjectID = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="ID of publishable content (Resource, Event, Concept, Theme…)."
    ),
]


@registry.mutation
@strawberry.type
class PublishingMutations:
    @payload_mutation(
        PublicationPayload,
        description="Publish now, or at a date: until then the public does not see it (editors).",
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
        return _converted(type_name, row)

    @payload_mutation(
        PublicationPayload, description="Withdraw from publication: back to draft (editors)."
    )
    async def unpublish(self, info: strawberry.Info, id: ObjectID, version: Version) -> Node:
        type_name, pk = from_global_id(id)
        row = await publishing.unpublish(info.context.viewer, type_name, pk, version=version)
        return _converted(type_name, row)

    @payload_mutation(
        PublicationPayload,
        description="Archive: kept for the record, invisible to the public (editors).",
    )
    async def archive(self, info: strawberry.Info, id: ObjectID, version: Version) -> Node:
        type_name, pk = from_global_id(id)
        row = await publishing.archive(info.context.viewer, type_name, pk, version=version)
        return _converted(type_name, row)
