"""Theme queries, including the theme of the month and the announced next theme."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from schema import registry
from schema.caching import public_read
from schema.compiler.coverage import compiled_table, filter_argument, order_argument
from schema.relay import After, Before, Connection, First, Last, connection, page_request
from schema.themes.loaders import theme_by_id
from schema.themes.types import Theme, ThemeOrder
from services.themes import service
from services.themes.models import Theme as ThemeModel
from services.themes.service import PARIS
from services.viewer import Viewer


@strawberry.input(description="Conditions on themes.")
class ThemeFilter:
    is_vote_candidate: bool | None = strawberry.field(
        default=None, description="Only themes local authorities can (or cannot) vote for."
    )
    was_theme_of_the_month: bool | None = strawberry.field(
        default=None, description="Only themes that were (or were never) theme of the month."
    )


def service_filter(flt: ThemeFilter | None) -> service.ThemeFilter:
    """The service's filter for the GraphQL one."""
    return service.ThemeFilter(
        is_vote_candidate=flt.is_vote_candidate if flt else None,
        was_theme_of_the_month=flt.was_theme_of_the_month if flt else None,
    )


def _today(now: dt.datetime) -> dt.date:
    """The day of ``now`` in Paris, as the theme of the month is told."""
    return now.astimezone(PARIS).date()


@registry.query
@strawberry.type
class ThemeQueries:
    @public_read(description="Themes, alphabetically unless asked otherwise.")
    async def themes(
        self,
        info: strawberry.Info,
        filter: Annotated[
            ThemeFilter | None, strawberry.argument(description="Conditions.")
        ] = None,
        order: Annotated[ThemeOrder | None, strawberry.argument(description="Sort order.")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Theme]:
        page = await service.list_themes(
            info.context.viewer,
            flt=service_filter(filter),
            order=order.value if order else None,
            page=page_request(info, first, after, last, before),
        )
        return connection(page, Theme.from_model)

    @public_read(description="The theme with this slug, or null.")
    async def theme(
        self,
        info: strawberry.Info,
        slug: Annotated[str, strawberry.argument(description="Slug of the theme.")],
    ) -> Theme | None:
        found = await service.get_theme_by_slug(info.context.viewer, slug)
        return Theme.from_model(found) if found else None

    @public_read(description="The theme of the month: the latest whose month has begun.")
    async def current_theme(self, info: strawberry.Info) -> Theme | None:
        ctx = info.context
        found = await service.get_current_theme(ctx.viewer, today=_today(ctx.now))
        return Theme.from_model(found) if found else None

    @public_read(
        description="The theme announced for the next issue (« Contribuez à la "
        "prochaine thématique »): the latest announcement, unless its month has begun; or null."
    )
    async def next_theme(self, info: strawberry.Info) -> Theme | None:
        ctx = info.context
        found = await service.get_next_theme(ctx.viewer, today=_today(ctx.now))
        return Theme.from_model(found) if found else None


registry.node_type("Theme", Theme, theme_by_id)


def _listed(viewer: Viewer, args: dict[str, Any], now: dt.datetime) -> Any:
    flt = service_filter(filter_argument(ThemeFilter, args))
    return service.themes_queryset(viewer, flt=flt, order=order_argument(args), now=now)


compiled_table(
    "Theme",
    ThemeModel,
    listed=("themes", _listed),
    by_slug=("theme", service.theme_by_slug_queryset),
    lookups={
        "currentTheme": lambda viewer, args, now: service.current_theme_queryset(
            viewer, today=_today(now)
        ),
        "nextTheme": lambda viewer, args, now: service.next_theme_queryset(
            viewer, today=_today(now)
        ),
    },
    by_id=service.theme_by_id_queryset,
)
