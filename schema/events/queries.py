"""Event queries."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from schema import registry
from schema.caching import public_read
from schema.compiler.coverage import (
    compiled_connection,
    compiled_table,
    filter_argument,
    order_argument,
)
from schema.events.loaders import event_by_id
from schema.events.types import Event, EventFilter, EventOrder
from schema.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection,
    decode_ids,
    page_request,
)
from services.events import service
from services.events.models import Event as EventModel
from services.viewer import Viewer


def to_service_filter(flt: EventFilter | None) -> service.EventFilter:
    if flt is None:
        return service.EventFilter()
    return service.EventFilter(
        ends_after=flt.from_,
        starts_before=flt.to,
        online=flt.online,
        cities=flt.cities or (),
        formats=flt.formats or (),
        theme_ids=decode_ids(flt.themes or (), "Theme", "filter.themes"),
        organizer_ids=decode_ids(flt.organizers or (), "Organization", "filter.organizers"),
    )


@registry.query
@strawberry.type
class EventQueries:
    @public_read(description="The agenda: events, soonest first.")
    async def events(
        self,
        info: strawberry.Info,
        filter: Annotated[
            EventFilter | None, strawberry.argument(description="Conditions.")
        ] = None,
        order: Annotated[EventOrder | None, strawberry.argument(description="Sort order.")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Event]:
        ctx = info.context
        page = await service.list_events(
            ctx.viewer,
            flt=to_service_filter(filter),
            order=order.value if order else None,
            page=page_request(info, first, after, last, before),
        )
        return connection(page, Event.from_model)

    @public_read(description="The event with this slug, or null.")
    async def event(
        self,
        info: strawberry.Info,
        slug: Annotated[str, strawberry.argument(description="Slug of the event.")],
    ) -> Event | None:
        found = await service.get_event_by_slug(info.context.viewer, slug)
        return Event.from_model(found) if found else None


registry.node_type("Event", Event, event_by_id)


def _listed(viewer: Viewer, args: dict[str, Any], now: dt.datetime) -> Any:
    flt = to_service_filter(filter_argument(EventFilter, args))
    return service.events_queryset(viewer, flt=flt, order=order_argument(args), now=now)


compiled_table(
    "Event",
    EventModel,
    listed=("events", _listed),
    by_slug=("event", service.event_by_slug_queryset),
    by_id=service.event_by_id_queryset,
    links={
        "organizers": service.ORGANIZERS,
        "themes": service.THEMES,
        "territories": service.TERRITORIES,
    },
)
compiled_connection("Theme", "events", service.THEME_EVENTS)
compiled_connection("Organization", "events", service.ORGANIZATION_EVENTS)
