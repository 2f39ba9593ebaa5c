"""The GraphQL ``Event`` type and its inputs."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.enums import ContentStatusEnum, mirror
from schema.events import loaders
from schema.relay import Node
from services.events.models import EVENT_TIMEZONE, EventFormat
from services.events.models import Event as EventModel
from services.labels import label

EventFormatEnum = mirror(EventFormat, "Format of an event.")

if TYPE_CHECKING:
    from schema.organizations.types import Organization
    from schema.territories.types import Territory
    from schema.themes.types import Theme


@strawberry.enum(description="Sort orders of events.")
class EventOrder(enum.Enum):
    STARTS_AT = strawberry.enum_value("STARTS_AT", description="Soonest first.")
    STARTS_AT_DESC = strawberry.enum_value("STARTS_AT_DESC", description="Latest first.")


@strawberry.input(description="Conditions on events; all must hold.")
class EventFilter:
    from_: dt.datetime | None = strawberry.field(
        default=None,
        name="from",
        description="Only events still running at or after this time (with a UTC offset).",
    )
    to: dt.datetime | None = strawberry.field(
        default=None, description="Only events starting before this time (with a UTC offset)."
    )
    online: bool | None = strawberry.field(
        default=None, description="True: online events only; false: in-person only."
    )
    cities: list[str] | None = strawberry.field(
        default=None, description="Cities (any of, case-insensitive)."
    )
    formats: list[EventFormatEnum] | None = strawberry.field(
        default=None, description="Formats (any of)."
    )
    themes: list[strawberry.ID] | None = strawberry.field(
        default=None, description="IDs of themes (any of)."
    )
    organizers: list[strawberry.ID] | None = strawberry.field(
        default=None, description="IDs of organising organisations (any of)."
    )


@strawberry.type(
    description="An event of the agenda (« À vos agendas ! »): webinar, training, "
    "conference, afterwork…, in a city or online. Times are instants; display them in "
    "Europe/Paris."
)
class Event(Node):
    slug: str = strawberry.field(description="Unique, URL-friendly name.")
    title: str = strawberry.field(description="Title, in French.")
    summary: str = strawberry.field(description="Short description.")
    starts_at: dt.datetime = strawberry.field(description="Start (UTC instant).")
    ends_at: dt.datetime = strawberry.field(description="End (UTC instant).")
    all_day: bool = strawberry.field(description="True when no time of day was announced.")
    city: str | None = strawberry.field(description="City where it takes place, if any.")
    online: bool = strawberry.field(description="True when it happens online.")
    format: EventFormatEnum = strawberry.field(description="Format of the event.")
    registration_url: str | None = strawberry.field(description="Where to register.")
    status: ContentStatusEnum = strawberry.field(description="Publication state.")

    version: int = strawberry.field(
        description="Version, incremented by every change: send it back with an update."
    )

    @classmethod
    def from_model(cls, m: EventModel) -> Event:
        return cls(
            pk=m.id,
            slug=m.slug,
            title=m.title,
            summary=m.summary,
            starts_at=m.starts_at,
            ends_at=m.ends_at,
            all_day=m.all_day,
            city=m.city,
            online=m.online,
            format=m.format,
            registration_url=m.registration_url,
            status=m.status,
            version=m.version,
        )

    @strawberry.field(description="Time zone to display the times in (always Europe/Paris).")
    def timezone(self) -> str:
        return EVENT_TIMEZONE

    @strawberry.field(description="French label of the format, e.g. « Webinaire ».")
    def format_label(self) -> str:
        return label(self.format)

    @strawberry.field(description="Organisations organising the event.")
    async def organizers(
        self, info: strawberry.Info
    ) -> list[Annotated[Organization, strawberry.lazy("schema.organizations.types")]]:
        from schema.organizations.types import Organization

        rows = await loaders.organizers_by_event_id(info.context).load(self.pk)
        return [Organization.from_model(o) for o in rows]

    @strawberry.field(description="Themes of the event.")
    async def themes(
        self, info: strawberry.Info
    ) -> list[Annotated[Theme, strawberry.lazy("schema.themes.types")]]:
        from schema.themes.types import Theme

        rows = await loaders.themes_by_event_id(info.context).load(self.pk)
        return [Theme.from_model(t) for t in rows]

    @strawberry.field(description="Territories where the event takes place.")
    async def territories(
        self, info: strawberry.Info
    ) -> list[Annotated[Territory, strawberry.lazy("schema.territories.types")]]:
        from schema.territories.types import Territory

        rows = await loaders.territories_by_event_id(info.context).load(self.pk)
        return [Territory.from_model(t) for t in rows]
