"""The territory (a local authority) as a content type: its fields and what refers to it,
declared once.

Territories have no version column and no draft state: an update is a plain save (last
write wins, audited), a new territory is public at once.
"""

from __future__ import annotations

import re
from typing import Any

from services.errors import BadUserInput
from services.fields import Cleaning, Field, Fields, slug_field
from services.registry import ContentType, Demo, register
from services.territories.demo import load_demo_territory
from services.territories.models import Territory, TerritoryLevel
from services.validation import text

NAME_MAX = 200
# INSEE code of a commune (79191, 2A004), number of a département (79, 2A, 971),
# SIREN of an EPCI or a région (200041317).
_INSEE_CODE = re.compile(r"^[0-9][0-9AB][0-9]{0,8}$")


async def _insee_code(value: Any, cleaning: Cleaning) -> str | None:
    code = str(value).strip().upper() or None
    if code is None:
        return None
    if not _INSEE_CODE.fullmatch(code):
        raise BadUserInput(
            "« insee_code » attend un code officiel (ex. 79191, 2A, 200041317).",
            field="insee_code",
        )
    if await Territory.filter(insee_code=code).exclude(id=cleaning.exclude_id or 0).exists():
        raise BadUserInput(
            f"Le code « {code} » est déjà celui d'un autre territoire.", field="insee_code"
        )
    return code


async def _uses(territory_id: int) -> dict[str, int]:
    from services.accounts.models import Account
    from services.projects.models import Membership
    from services.resources.models import Resource
    from services.votes.models import Vote

    return {
        "comptes": await Account.filter(territory_id=territory_id).count(),
        "projets partagés": await Membership.filter(territory_id=territory_id).count(),
        "votes": await Vote.filter(territory_id=territory_id).count(),
        "contributions": await Resource.filter(contributor_territory_id=territory_id).count(),
    }


TERRITORY = register(
    ContentType(
        name="Territory",
        model=Territory,
        label="Territoire",
        definite="le territoire",
        entity="territory",
        demo=Demo("territories", load_demo_territory),
        versioned=False,
        slug_from="name",
        fields=Fields(
            Field(
                "name", str, "Name (≤ 200), e.g. « Niort ».", required=True, clean=text(NAME_MAX)
            ),
            slug_field("name"),
            Field("level", TerritoryLevel, "Level of the local authority.", required=True),
            Field(
                "insee_code",
                str,
                "Official code (INSEE code of a commune, number of a département, SIREN), "
                "unique; null removes it.",
                nullable=True,
                clean=_insee_code,
            ),
        ),
        in_use=_uses,
    )
)
