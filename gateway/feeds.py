"""The iCalendar feeds of the agenda (RSS and Atom feeds of the resources:
:mod:`gateway.syndication`)."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response

from gateway.http import error_response
from services.events import service as events
from services.events.calendar import render_calendar
from services.themes import service as themes
from services.viewer import ANONYMOUS

# Feeds show what is coming and what happened recently.
_PAST_WINDOW = dt.timedelta(days=365)


async def _feed(request: Request, *, name: str, theme_ids: tuple[int, ...] = ()) -> Response:
    settings = request.app.state.settings
    since = dt.datetime.now(dt.UTC) - _PAST_WINDOW
    rows = await events.list_events_for_calendar(
        ANONYMOUS, flt=events.EventFilter(ends_after=since, theme_ids=theme_ids)
    )
    body = render_calendar(rows, name=name, base_url=settings.http.base_url)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="agenda.ics"',
            "Cache-Control": "public, max-age=300",
        },
    )


async def events_feed(request: Request) -> Response:
    """``GET /events.ics``: the whole public agenda."""
    return await _feed(request, name="Territoires en Commun — agenda")


async def theme_events_feed(request: Request) -> Response:
    """``GET /themes/{slug}/events.ics``: the agenda of one theme."""
    theme = await themes.get_theme_by_slug(ANONYMOUS, request.path_params["slug"])
    if theme is None:
        slug = request.path_params["slug"]
        return error_response(404, "NOT_FOUND", f"Thématique inconnue : « {slug} ».")
    return await _feed(
        request, name=f"Territoires en Commun — {theme.title}", theme_ids=(theme.id,)
    )
