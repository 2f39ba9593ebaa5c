"""Editors' writes on themes: create (as draft), update, delete.

Two rules of their own: one theme per month (a taken month is refused on ``month``),
and at most one announced next theme (setting ``is_next`` clears it on the others).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import F

from services.audit.service import diff
from services.editing import (
    create_draft,
    delete_noted,
    get_for_update,
    note_change,
    now,
    refuse_if_used,
    update_versioned,
    write_transaction,
)
from services.errors import BadUserInput
from services.policy import authorize
from services.projects.models import SharedProject
from services.themes.models import Theme
from services.validation import (
    BODY_MAX,
    check_slug_free,
    clean_rich_text,
    clean_slug,
    clean_text,
)
from services.viewer import Viewer
from services.votes.models import Candidate, Vote, VotingRound

_UNSET: Any = object()
THEME_TITLE_MAX = 200  # the column's size


@dataclass
class ThemeChanges:
    """Fields to set; ``_UNSET`` (the default) leaves a field as it is."""

    title: str = _UNSET
    slug: str = _UNSET
    introduction: str = _UNSET
    month: dt.date | None = _UNSET
    announced_in: dt.date | None = _UNSET
    is_next: bool = _UNSET
    is_vote_candidate: bool = _UNSET

    def given(self, name: str) -> bool:
        return getattr(self, name) is not _UNSET


def _first_of_month(value: dt.date | None) -> dt.date | None:
    return value.replace(day=1) if value is not None else None


async def clean_theme_changes(changes: ThemeChanges, *, exclude_id: int | None) -> dict[str, Any]:
    """Validated column values of ``changes``; nothing is written here."""
    values: dict[str, Any] = {}
    if changes.given("title"):
        values["title"] = clean_text(changes.title, field="title", max_length=THEME_TITLE_MAX)
    if changes.given("slug"):
        values["slug"] = clean_slug(changes.slug)
        await check_slug_free(Theme, values["slug"], exclude_id=exclude_id)
    if changes.given("introduction"):
        values["introduction"] = clean_rich_text(
            changes.introduction, field="introduction", max_length=BODY_MAX
        )
    if changes.given("month"):
        month = values["month"] = _first_of_month(changes.month)
        if (
            month is not None
            and await Theme.filter(month=month).exclude(id=exclude_id or 0).exists()
        ):
            raise BadUserInput(
                f"Une autre thématique est déjà celle du mois de {month:%m/%Y}.", field="month"
            )
    if changes.given("announced_in"):
        values["announced_in"] = _first_of_month(changes.announced_in)
    if changes.given("is_next"):
        values["is_next"] = bool(changes.is_next)
    if changes.given("is_vote_candidate"):
        values["is_vote_candidate"] = bool(changes.is_vote_candidate)
    return values


async def _clear_other_next(viewer: Viewer, theme_id: int) -> None:
    """Only one theme is announced as next: the others lose the mark (and change version)."""
    others = await Theme.filter(is_next=True).exclude(id=theme_id)
    if not others:
        return
    await Theme.filter(id__in=[t.id for t in others]).update(
        is_next=False, version=F("version") + 1, updated_at=now()
    )
    for other in others:
        await other.refresh_from_db()
        await note_change(viewer, "theme.update", other, {"is_next": [True, False]})


async def create_theme(viewer: Viewer, *, changes: ThemeChanges) -> Theme:
    """A new theme, as a draft that only editors see until it is published."""
    authorize(viewer, "theme.create")
    if not changes.given("title"):
        changes.title = ""
    async with write_transaction():
        values = await clean_theme_changes(changes, exclude_id=None)
        theme = await create_draft(Theme, values)
        if values.get("is_next"):
            await _clear_other_next(viewer, theme.id)
        await note_change(viewer, "theme.create", theme, diff({}, values))
    return theme


async def update_theme(
    viewer: Viewer, theme_id: int, *, version: int, changes: ThemeChanges
) -> Theme:
    """Change the given fields if the theme is still at ``version`` (else CONFLICT)."""
    authorize(viewer, "theme.update")
    async with write_transaction():
        theme = await get_for_update(Theme, theme_id, label="Thématique", version=version)
        values = await clean_theme_changes(changes, exclude_id=theme_id)
        theme = await update_versioned(
            viewer, theme, version=version, values=values, action="theme.update"
        )
        if values.get("is_next"):
            await _clear_other_next(viewer, theme.id)
    return theme


async def delete_theme(viewer: Viewer, theme_id: int, *, version: int) -> Theme:
    """Delete for good, unless shared projects or votes still refer to it (CONFLICT)."""
    authorize(viewer, "theme.delete")
    async with write_transaction():
        theme = await get_for_update(Theme, theme_id, label="Thématique", version=version)
        refuse_if_used(
            "la thématique",
            {
                "projets partagés": await SharedProject.filter(theme_id=theme_id).count(),
                "candidatures à un vote": await Candidate.filter(theme_id=theme_id).count(),
                "votes": await Vote.filter(theme_id=theme_id).count(),
                "votes remportés": await VotingRound.filter(winner_id=theme_id).count(),
            },
            hint=", ou archivez-la",
        )
        await delete_noted(viewer, theme, action="theme.delete", version=version)
    return theme
