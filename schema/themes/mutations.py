"""Theme mutations: editors create, change and delete themes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from schema.relay import Deleted, decode_id
from schema.themes.types import Theme
from services.errors import BadUserInput
from services.themes import editing

ThemeID = Annotated[strawberry.ID, strawberry.argument(description="ID of the theme.")]
Version = Annotated[
    int,
    strawberry.argument(
        description="The `version` you read; a newer one on the server "
        "makes the mutation fail with CONFLICT."
    ),
]


@strawberry.input(description="Fields of a theme. On update, omitted fields are left as they are.")
class ThemeInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="Title (≤ 200).")
    slug: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="URL name (a-z, 0-9, dashes); generated from the title when omitted.",
    )
    introduction: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Introduction as HTML (≤ 100,000); sanitised with an allow-list.",
    )
    month: dt.date | None = strawberry.field(
        default=strawberry.UNSET,
        description="Month it is the theme of the month (any day of it; stored as the 1st). "
        "One theme per month; null removes it.",
    )
    announced_in: dt.date | None = strawberry.field(
        default=strawberry.UNSET,
        description="Month of the newsletter announcing it as the next theme; null removes it.",
    )
    is_next: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Announce it as the next theme; the theme announced before loses the mark.",
    )
    is_vote_candidate: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Whether local authorities can vote for it as a shared-project theme.",
    )


_FIELDS = ("title", "slug", "introduction", "month", "announced_in", "is_next", "is_vote_candidate")
_NULLABLE = ("month", "announced_in")


def to_changes(data: ThemeInput) -> editing.ThemeChanges:
    """The service's change set; null is refused where a value is required."""
    changes = editing.ThemeChanges()
    for name in _FIELDS:
        value = getattr(data, name)
        if value is strawberry.UNSET:
            continue
        if value is None and name not in _NULLABLE:
            raise BadUserInput(f"« {name} » ne peut pas être null.", field=name)
        setattr(changes, name, value)
    return changes


def theme_pk(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Theme")


@strawberry.type
class ThemeMutations:
    @strawberry.mutation(description="Create a theme as a draft (editors).")
    async def create_theme(
        self,
        info: strawberry.Info,
        input: Annotated[ThemeInput, strawberry.argument(description="Its fields.")],
    ) -> Theme:
        found = await editing.create_theme(info.context.viewer, changes=to_changes(input))
        return Theme.from_model(found)

    @strawberry.mutation(description="Change a theme (editors).")
    async def update_theme(
        self,
        info: strawberry.Info,
        id: ThemeID,
        version: Version,
        input: Annotated[ThemeInput, strawberry.argument(description="Fields to change.")],
    ) -> Theme:
        found = await editing.update_theme(
            info.context.viewer, theme_pk(id), version=version, changes=to_changes(input)
        )
        return Theme.from_model(found)

    @strawberry.mutation(
        description="Delete a theme for good (editors); CONFLICT while shared projects or "
        "votes refer to it. Archive it to keep it."
    )
    async def delete_theme(self, info: strawberry.Info, id: ThemeID, version: Version) -> Deleted:
        await editing.delete_theme(info.context.viewer, theme_pk(id), version=version)
        return Deleted(id=id)
