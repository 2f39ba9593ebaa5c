"""Editors' writes on territories (local authorities): create, update, delete.

Territories have no version column: an update is a plain save, audited with the
before/after of the fields it changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from services.accounts.models import Account
from services.audit.service import diff
from services.editing import (
    delete_noted,
    get_for_update,
    note_change,
    refuse_if_used,
    update_unversioned,
    write_transaction,
)
from services.errors import BadUserInput
from services.policy import authorize
from services.projects.models import Membership
from services.resources.models import Resource
from services.territories.models import Territory, TerritoryLevel
from services.validation import check_slug_free, clean_slug, clean_text, unique_slug
from services.viewer import Viewer
from services.votes.models import Vote

_UNSET: Any = object()
NAME_MAX = 200
# INSEE code of a commune (79191, 2A004), number of a département (79, 2A, 971),
# SIREN of an EPCI or a région (200041317).
_INSEE_CODE = re.compile(r"^[0-9][0-9AB][0-9]{0,8}$")


@dataclass
class TerritoryChanges:
    """Fields to set; ``_UNSET`` (the default) leaves a field as it is."""

    name: str = _UNSET
    slug: str = _UNSET
    level: TerritoryLevel = _UNSET
    insee_code: str | None = _UNSET

    def given(self, name: str) -> bool:
        return getattr(self, name) is not _UNSET


async def clean_territory_changes(
    changes: TerritoryChanges, *, exclude_id: int | None
) -> dict[str, Any]:
    """Validated column values of ``changes``; nothing is written here."""
    values: dict[str, Any] = {}
    if changes.given("name"):
        values["name"] = clean_text(changes.name, field="name", max_length=NAME_MAX)
    if changes.given("slug"):
        values["slug"] = clean_slug(changes.slug)
        await check_slug_free(Territory, values["slug"], exclude_id=exclude_id)
    if changes.given("level"):
        values["level"] = TerritoryLevel(changes.level)
    elif exclude_id is None:
        raise BadUserInput("« level » est obligatoire.", field="level")
    if changes.given("insee_code"):
        code = (changes.insee_code or "").strip().upper() or None
        if code is not None:
            if not _INSEE_CODE.fullmatch(code):
                raise BadUserInput(
                    "« insee_code » attend un code officiel (ex. 79191, 2A, 200041317).",
                    field="insee_code",
                )
            if await Territory.filter(insee_code=code).exclude(id=exclude_id or 0).exists():
                raise BadUserInput(
                    f"Le code « {code} » est déjà celui d'un autre territoire.",
                    field="insee_code",
                )
        values["insee_code"] = code
    return values


async def create_territory(viewer: Viewer, *, changes: TerritoryChanges) -> Territory:
    """A new territory (territories have no draft state: it is public at once)."""
    authorize(viewer, "territory.create")
    if not changes.given("name"):
        changes.name = ""
    async with write_transaction():
        values = await clean_territory_changes(changes, exclude_id=None)
        values.setdefault("slug", await unique_slug(Territory, values["name"]))
        territory = await Territory.create(**values)
        await note_change(viewer, "territory.create", territory, diff({}, values))
    return territory


async def update_territory(
    viewer: Viewer, territory_id: int, *, changes: TerritoryChanges
) -> Territory:
    """Change the given fields (last write wins: territories carry no version)."""
    authorize(viewer, "territory.update")
    async with write_transaction():
        territory = await get_for_update(Territory, territory_id, label="Territoire", version=None)
        values = await clean_territory_changes(changes, exclude_id=territory_id)
        return await update_unversioned(viewer, territory, values=values, action="territory.update")


async def delete_territory(viewer: Viewer, territory_id: int) -> Territory:
    """Delete for good, unless accounts, shared projects, votes or contributions still
    refer to it (CONFLICT). Links from resources and events go with it."""
    authorize(viewer, "territory.delete")
    async with write_transaction():
        territory = await get_for_update(Territory, territory_id, label="Territoire", version=None)
        refuse_if_used(
            "le territoire",
            {
                "comptes": await Account.filter(territory_id=territory_id).count(),
                "projets partagés": await Membership.filter(territory_id=territory_id).count(),
                "votes": await Vote.filter(territory_id=territory_id).count(),
                "contributions": await Resource.filter(
                    contributor_territory_id=territory_id
                ).count(),
            },
        )
        await delete_noted(viewer, territory, action="territory.delete", version=None)
    return territory
