"""The theme as a content type: its fields and rules, declared once."""

from __future__ import annotations

import datetime as dt

from tortoise.expressions import F

from services.errors import BadUserInput
from services.fields import Changes, Cleaning, Field, Fields, slug_field
from services.registry import ContentType, Demo, register
from services.themes.demo import load_demo_theme
from services.themes.models import Theme
from services.validation import BODY_MAX, first_of_month, rich_text, text
from services.viewer import Viewer

THEME_TITLE_MAX = 200  # the column's size


async def _free_month(value: dt.date, cleaning: Cleaning) -> dt.date:
    """One theme per month."""
    month = first_of_month(value, cleaning)
    if await Theme.filter(month=month).exclude(id=cleaning.exclude_id or 0).exists():
        raise BadUserInput(
            f"Une autre thématique est déjà celle du mois de {month:%m/%Y}.", field="month"
        )
    return month


async def _one_next_theme(viewer: Viewer, theme: Theme, changes: Changes) -> None:
    """Only one theme is announced as next: the others lose the mark (and change version)."""
    from services.editing import note_change, now

    if not changes.values.get("is_next"):
        return
    others = await Theme.filter(is_next=True).exclude(id=theme.id)
    if not others:
        return
    await Theme.filter(id__in=[t.id for t in others]).update(
        is_next=False, version=F("version") + 1, updated_at=now()
    )
    for other in others:
        await other.refresh_from_db()
        await note_change(viewer, "theme.update", other, {"is_next": [True, False]})


async def _uses(theme_id: int) -> dict[str, int]:
    from services.projects.models import SharedProject
    from services.votes.models import Candidate, Vote, VotingRound

    return {
        "projets partagés": await SharedProject.filter(theme_id=theme_id).count(),
        "candidatures à un vote": await Candidate.filter(theme_id=theme_id).count(),
        "votes": await Vote.filter(theme_id=theme_id).count(),
        "votes remportés": await VotingRound.filter(winner_id=theme_id).count(),
    }


THEME = register(
    ContentType(
        name="Theme",
        model=Theme,
        label="Thématique",
        definite="la thématique",
        entity="theme",
        demo=Demo("themes", load_demo_theme),
        publishable=True,
        fields=Fields(
            Field("title", str, "Title (≤ 200).", required=True, clean=text(THEME_TITLE_MAX)),
            slug_field(),
            Field(
                "introduction",
                str,
                "Introduction as HTML (≤ 100,000); sanitised with an allow-list.",
                clean=rich_text(BODY_MAX),
            ),
            Field(
                "month",
                dt.date,
                "Month it is the theme of the month (any day of it; stored as the 1st). "
                "One theme per month; null removes it.",
                nullable=True,
                clean=_free_month,
            ),
            Field(
                "announced_in",
                dt.date,
                "Month of the newsletter announcing it as the next theme; null removes it.",
                nullable=True,
                clean=first_of_month,
            ),
            Field(
                "is_next",
                bool,
                "Announce it as the next theme; the theme announced before loses the mark.",
            ),
            Field(
                "is_vote_candidate",
                bool,
                "Whether local authorities can vote for it as a shared-project theme.",
            ),
        ),
        after_write=_one_next_theme,
        in_use=_uses,
        delete_hint=", ou archivez-la",
    )
)
