"""Theme mutations: editors create, change and delete themes."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.arguments import Version
from schema.inputs import content_inputs, given_fields
from schema.payloads import DeletePayload, payload_mutation
from schema.relay import decode_id
from schema.themes.types import Theme
from services.editing import create_content, delete_content, update_content
from services.themes.content_type import THEME

ThemeID = Annotated[strawberry.ID, strawberry.argument(description="ID of the theme.")]
ThemeCreateInput, ThemeUpdateInput = content_inputs(THEME, "a theme")
CreateThemePayload, UpdateThemePayload = registry.payloads(Theme)


@registry.mutation
@strawberry.type
class ThemeMutations:
    @payload_mutation(CreateThemePayload, description="Create a theme as a draft (editors).")
    async def create_theme(
        self,
        info: strawberry.Info,
        input: Annotated[ThemeCreateInput, strawberry.argument(description="Its fields.")],
    ) -> Theme:
        row = await create_content(info.context.viewer, THEME, given_fields(input, THEME))
        return Theme.from_model(row)

    @payload_mutation(UpdateThemePayload, description="Change a theme (editors).")
    async def update_theme(
        self,
        info: strawberry.Info,
        id: ThemeID,
        version: Version,
        input: Annotated[ThemeUpdateInput, strawberry.argument(description="Fields to change.")],
    ) -> Theme:
        row = await update_content(
            info.context.viewer,
            THEME,
            decode_id(id, "Theme"),
            version=version,
            given=given_fields(input, THEME),
        )
        return Theme.from_model(row)

    @payload_mutation(
        DeletePayload,
        description="Delete a theme for good (editors); CONFLICT while shared projects or "
        "votes refer to it. Archive it to keep it.",
    )
    async def delete_theme(
        self, info: strawberry.Info, id: ThemeID, version: Version
    ) -> strawberry.ID:
        await delete_content(info.context.viewer, THEME, decode_id(id, "Theme"), version=version)
        return id
