"""Event mutations: editors create, change and delete events."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.arguments import Version
from schema.events.types import Event
from schema.inputs import content_inputs, given_fields
from schema.payloads import DeletePayload, payload_mutation
from schema.relay import decode_id
from services.editing import create_content, delete_content, update_content
from services.events.content_type import EVENT

EventID = Annotated[strawberry.ID, strawberry.argument(description="ID of the event.")]
EventCreateInput, EventUpdateInput = content_inputs(EVENT, "an event")
CreateEventPayload, UpdateEventPayload = registry.payloads(Event)


@registry.mutation
@strawberry.type
class EventMutations:
    @payload_mutation(CreateEventPayload, description="Create an event as a draft (editors).")
    async def create_event(
        self,
        info: strawberry.Info,
        input: Annotated[EventCreateInput, strawberry.argument(description="Its fields.")],
    ) -> Event:
        row = await create_content(info.context.viewer, EVENT, given_fields(input, EVENT))
        return Event.from_model(row)

    @payload_mutation(UpdateEventPayload, description="Change an event (editors).")
    async def update_event(
        self,
        info: strawberry.Info,
        id: EventID,
        version: Version,
        input: Annotated[EventUpdateInput, strawberry.argument(description="Fields to change.")],
    ) -> Event:
        row = await update_content(
            info.context.viewer,
            EVENT,
            decode_id(id, "Event"),
            version=version,
            given=given_fields(input, EVENT),
        )
        return Event.from_model(row)

    @payload_mutation(
        DeletePayload, description="Delete an event for good (editors); archive it to keep it."
    )
    async def delete_event(
        self, info: strawberry.Info, id: EventID, version: Version
    ) -> strawberry.ID:
        await delete_content(info.context.viewer, EVENT, decode_id(id, "Event"), version=version)
        return id
