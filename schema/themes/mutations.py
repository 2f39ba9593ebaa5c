"""Theme mutations: editors create, change and delete themes."""

from __future__ import annotations

from schema.themes.types import Theme
from schema.writes import Descriptions, content_mutations
from services.themes.content_type import THEME

WRITES = content_mutations(
    THEME,
    Theme,
    Descriptions(
        a="a theme",
        the="the theme",
        create="Create a theme as a draft (editors).",
        update="Change a theme (editors).",
        delete="Delete a theme for good (editors); CONFLICT while shared projects or "
        "votes refer to it. Archive it to keep it.",
    ),
)
ThemeCreateInput, ThemeUpdateInput = WRITES.create_input, WRITES.update_input
