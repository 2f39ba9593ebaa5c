"""Territory mutations: editors create, change and delete territories."""

from __future__ import annotations

from schema.territories.types import Territory
from schema.writes import Descriptions, content_mutations
from services.territories.content_type import TERRITORY

WRITES = content_mutations(
    TERRITORY,
    Territory,
    Descriptions(
        a="a territory",
        the="the territory",
        create="Create a territory (editors); it is public at once.",
        update="Change a territory (editors). Territories carry no version: the last write wins.",
        delete="Delete a territory for good (editors); CONFLICT while accounts, shared "
        "projects, votes or contributions refer to it.",
    ),
)
TerritoryCreateInput, TerritoryUpdateInput = WRITES.create_input, WRITES.update_input
