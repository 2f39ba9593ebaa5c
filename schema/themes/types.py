"""The GraphQL ``Theme`` type."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from schema.enums import ContentStatusEnum
from schema.relay import Node, children_field
from services.themes.models import Theme as ThemeModel


@strawberry.enum(description="Sort orders of themes.")
class ThemeOrder(enum.Enum):
    TITLE = strawberry.enum_value("TITLE", description="Alphabetical order (accents ignored).")
    MONTH = strawberry.enum_value(
        "MONTH", description="Most recent theme of the month first (others left out)."
    )


@strawberry.type(
    description="A theme: theme of the month (« thématique du mois »), announced next "
    "theme, or policy theme that local authorities vote on."
)
class Theme(Node):
    slug: str = strawberry.field(description="Unique, URL-friendly name.")
    title: str = strawberry.field(description="Title, in French.")
    introduction: str = strawberry.field(description="Introduction of the theme.")
    month: dt.date | None = strawberry.field(
        description="First day of the month it is or was the theme of the month."
    )
    announced_in: dt.date | None = strawberry.field(
        description="Month of the newsletter that announced it as the next theme."
    )
    is_next: bool = strawberry.field(
        description="True for the theme announced for the coming issue (contributions welcome)."
    )
    is_vote_candidate: bool = strawberry.field(
        description="True when local authorities can vote for it as a shared-project theme."
    )

    status: ContentStatusEnum = strawberry.field(description="Publication state.")
    published_at: dt.datetime | None = strawberry.field(description="Publication time (UTC).")
    version: int = strawberry.field(
        description="Version, incremented by every change: send it back with an update."
    )

    @classmethod
    def from_model(cls, m: ThemeModel) -> Theme:
        return cls(
            pk=m.id,
            slug=m.slug,
            title=m.title,
            introduction=m.introduction,
            month=m.month,
            announced_in=m.announced_in,
            is_next=m.is_next,
            is_vote_candidate=m.is_vote_candidate,
            status=m.status,
            published_at=m.published_at,
            version=m.version,
        )

    resources = children_field(
        "Published resources on this theme, newest first.",
        node="schema.resources.types.Resource",
        orders="schema.resources.types.ResourceOrder",
        pages="schema.resources.loaders.resource_pages_by_theme_id",
    )
    events = children_field(
        "Events on this theme, soonest first.",
        node="schema.events.types.Event",
        orders="schema.events.types.EventOrder",
        pages="schema.events.loaders.event_pages_by_theme_id",
    )
