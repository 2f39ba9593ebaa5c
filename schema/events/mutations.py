"""Event mutations: editors create, change and delete events of the agenda."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from schema.enums import EventFormatEnum
from schema.events.types import Event
from schema.relay import Deleted, decode_id, decode_ids
from services.errors import BadUserInput
from services.events import editing

EventID = Annotated[strawberry.ID, strawberry.argument(description="ID of the event.")]
Version = Annotated[
    int,
    strawberry.argument(
        description="The `version` you read; a newer one on the server "
        "makes the mutation fail with CONFLICT."
    ),
]


@strawberry.input(description="Fields of an event. On update, omitted fields are left as they are.")
class EventInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="Title (≤ 300).")
    slug: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="URL name (a-z, 0-9, dashes); generated from the title when omitted.",
    )
    summary: str | None = strawberry.field(
        default=strawberry.UNSET, description="Plain-text description (≤ 2,000)."
    )
    starts_at: dt.datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="Start, with a UTC offset (e.g. 2026-03-12T18:30:00+01:00); "
        "required on creation.",
    )
    ends_at: dt.datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="End, with a UTC offset, not before the start; required on creation.",
    )
    all_day: bool | None = strawberry.field(
        default=strawberry.UNSET, description="True when no time of day is announced."
    )
    city: str | None = strawberry.field(
        default=strawberry.UNSET, description="City where it takes place (≤ 120); null removes it."
    )
    online: bool | None = strawberry.field(
        default=strawberry.UNSET, description="True when it happens online."
    )
    format: EventFormatEnum | None = strawberry.field(
        default=strawberry.UNSET, description="Format of the event."
    )
    registration_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Where to register (http or https only); null removes it.",
    )
    organizers: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="IDs of the organising organisations (replaces the list).",
    )
    themes: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="IDs of its themes (replaces the list)."
    )
    territories: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="IDs of the territories where it takes place (replaces the list).",
    )


_SCALARS = (
    "title",
    "slug",
    "summary",
    "starts_at",
    "ends_at",
    "all_day",
    "city",
    "online",
    "format",
    "registration_url",
)
_NULLABLE = ("city", "registration_url")


def to_changes(data: EventInput) -> editing.EventChanges:
    """The service's change set; null is refused where a value is required."""
    changes = editing.EventChanges()
    for name in _SCALARS:
        value = getattr(data, name)
        if value is strawberry.UNSET:
            continue
        if value is None and name not in _NULLABLE:
            raise BadUserInput(f"« {name} » ne peut pas être null.", field=name)
        setattr(changes, name, value)
    for name, type_name, target in (
        ("organizers", "Organization", "organizer_ids"),
        ("themes", "Theme", "theme_ids"),
        ("territories", "Territory", "territory_ids"),
    ):
        value = getattr(data, name)
        if value is not strawberry.UNSET:
            setattr(changes, target, decode_ids(value or (), type_name, name))
    return changes


def event_pk(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Event")


@strawberry.type
class EventMutations:
    @strawberry.mutation(description="Create an event as a draft (editors).")
    async def create_event(
        self,
        info: strawberry.Info,
        input: Annotated[EventInput, strawberry.argument(description="Its fields.")],
    ) -> Event:
        found = await editing.create_event(info.context.viewer, changes=to_changes(input))
        return Event.from_model(found)

    @strawberry.mutation(description="Change an event (editors).")
    async def update_event(
        self,
        info: strawberry.Info,
        id: EventID,
        version: Version,
        input: Annotated[EventInput, strawberry.argument(description="Fields to change.")],
    ) -> Event:
        found = await editing.update_event(
            info.context.viewer, event_pk(id), version=version, changes=to_changes(input)
        )
        return Event.from_model(found)

    @strawberry.mutation(description="Delete an event for good (editors); archive it to keep it.")
    async def delete_event(self, info: strawberry.Info, id: EventID, version: Version) -> Deleted:
        await editing.delete_event(info.context.viewer, event_pk(id), version=version)
        return Deleted(id=id)
