"""Voting rounds: editors open them, local authorities vote, the round closes and its
winning theme becomes a draft shared project.

Concurrency: every write on a round first locks the round's row
(``SELECT … FOR UPDATE``), so votes of one round, and the close, are serialised by the
database whatever the number of app processes. A vote either commits before the close
(counted) or sees the round closed (refused with ``ROUND_CLOSED``); the unique
(round, territory, theme) constraint backs the « one vote per theme » rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.functions import Count, Max

from services.content import ContentStatus, slugify
from services.editing import note_change, now, write_transaction
from services.errors import BadUserInput, Forbidden, NotFound, Problems
from services.moments import Moment
from services.policy import authorize, is_allowed
from services.projects.models import ProjectStatus, SharedProject
from services.themes.models import Theme
from services.validation import SUMMARY_MAX, TITLE_MAX, clean_text, require_aware, unique_slug
from services.viewer import Viewer
from services.votes.errors import (
    AlreadyVoted,
    ClosesBeforeOpening,
    ClosesInPast,
    NotACandidate,
    RoundClosed,
    RoundNotOpen,
    VoteLimitReached,
)
from services.votes.models import Candidate, Vote, VotingRound
from services.votes.notifications import round_changed

DEFAULT_VOTES_PER_TERRITORY = 3


def is_open(voting_round: VotingRound, at: dt.datetime) -> bool:
    return voting_round.closed_at is None and voting_round.opens_at <= at < voting_round.closes_at


async def _locked_round(round_id: int) -> VotingRound:
    found = await VotingRound.filter(id=round_id).select_for_update().first()
    if found is None:
        raise NotFound("Tour de vote introuvable.", field="round")
    return found


@dataclass(frozen=True)
class RoundDraft:
    """A round to open; its dates are instants or :class:`Moment` s (``now``, ``P7D``…)
    counted from the moment it is opened."""

    title: str
    opens_at: dt.datetime | Moment
    closes_at: dt.datetime | Moment
    candidate_theme_ids: Sequence[int]
    description: str = ""
    votes_per_territory: int = DEFAULT_VOTES_PER_TERRITORY


def _instant(value: dt.datetime | Moment, at: dt.datetime, *, field: str) -> dt.datetime:
    if isinstance(value, Moment):
        return value.resolve(at)
    return require_aware(value, field=field)


async def open_voting_round(
    viewer: Viewer, *, draft: RoundDraft, at: dt.datetime | None = None
) -> VotingRound:
    """Create a round with its candidate themes (published: the ranking is public).
    ``at`` is the present its relative dates count from (now if None). A round that
    closes before it opens, or has already closed, is refused."""
    authorize(viewer, "round.open")
    at = at or now()
    # Every field is checked before anything is refused: a form shows all its problems.
    problems = Problems()
    title = problems.check(lambda: clean_text(draft.title, field="title", max_length=TITLE_MAX))
    description = problems.check(
        lambda: clean_text(
            draft.description, field="description", max_length=SUMMARY_MAX, required=False
        )
    )
    opens_at = problems.check(lambda: _instant(draft.opens_at, at, field="opensAt"))
    closes_at = problems.check(lambda: _instant(draft.closes_at, at, field="closesAt"))
    if closes_at is not None and closes_at <= at:
        problems.add(
            ClosesInPast(
                "La clôture est déjà passée : aucun vote ne serait possible (une date future, "
                "ou une durée à partir de maintenant comme P7D).",
                field="closesAt",
            )
        )
    elif closes_at is not None and opens_at is not None and closes_at <= opens_at:
        problems.add(ClosesBeforeOpening("La clôture doit suivre l'ouverture.", field="closesAt"))
    if not 1 <= draft.votes_per_territory <= 20:
        problems.add(
            BadUserInput("Entre 1 et 20 votes par collectivité.", field="votesPerTerritory")
        )
    theme_ids = list(dict.fromkeys(draft.candidate_theme_ids))
    if len(theme_ids) < 2:
        problems.add(BadUserInput("Au moins deux thématiques candidates.", field="candidates"))
    elif await Theme.filter(id__in=theme_ids).count() != len(theme_ids):
        problems.add(BadUserInput("Thématique candidate inconnue.", field="candidates"))
    # The ranking is public: its themes must be too.
    elif await Theme.filter(id__in=theme_ids).exclude(status=ContentStatus.PUBLISHED).exists():
        problems.add(
            BadUserInput("Publiez d'abord les thématiques candidates.", field="candidates")
        )
    problems.raise_any()
    assert title is not None and opens_at is not None and closes_at is not None
    async with write_transaction():
        voting_round = await VotingRound.create(
            slug=await unique_slug(VotingRound, title),
            title=title,
            description=description,
            opens_at=opens_at,
            closes_at=closes_at,
            votes_per_territory=draft.votes_per_territory,
            status=ContentStatus.PUBLISHED,
            published_at=now(),
        )
        await Candidate.bulk_create(
            [Candidate(round_id=voting_round.id, theme_id=t) for t in theme_ids]
        )
        await Theme.filter(id__in=theme_ids).update(is_vote_candidate=True)
        await note_change(
            viewer,
            "round.open",
            voting_round,
            {
                "title": [None, title],
                "candidates": [None, theme_ids],
                "opens_at": [None, opens_at.isoformat()],
                "closes_at": [None, closes_at.isoformat()],
            },
        )
    return voting_round


def _own_territory(viewer: Viewer, territory_id: int | None) -> int:
    if viewer.territory_id is None:
        raise Forbidden("Seuls les membres d'une collectivité votent.")
    if territory_id is not None and territory_id != viewer.territory_id:
        raise Forbidden(
            "Vous ne pouvez voter que pour votre propre collectivité.", field="territory"
        )
    return viewer.territory_id


async def cast_vote(
    viewer: Viewer,
    round_id: int,
    *,
    theme_id: int,
    territory_id: int | None = None,
    at: dt.datetime | None = None,
) -> Vote:
    """One vote of the viewer's local authority for a candidate theme."""
    authorize(viewer, "vote.cast")
    territory = _own_territory(viewer, territory_id)
    at = at or now()
    async with write_transaction():
        voting_round = await _locked_round(round_id)
        if voting_round.closed_at is not None or at >= voting_round.closes_at:
            raise RoundClosed("Ce tour de vote est clos.", field="round")
        if at < voting_round.opens_at:
            raise RoundNotOpen("Ce tour de vote n'est pas encore ouvert.", field="round")
        if not await Candidate.filter(round_id=round_id, theme_id=theme_id).exists():
            raise NotACandidate("Cette thématique n'est pas candidate dans ce tour.", field="theme")
        mine = await Vote.filter(round_id=round_id, territory_id=territory).values_list(
            "theme_id", flat=True
        )
        if theme_id in mine:
            raise AlreadyVoted(
                "Votre collectivité a déjà voté pour cette thématique.", field="theme"
            )
        if len(mine) >= voting_round.votes_per_territory:
            raise VoteLimitReached(
                f"Votre collectivité a déjà utilisé ses {voting_round.votes_per_territory} "
                "votes : retirez-en un pour voter autrement.",
                field="theme",
            )
        vote = await Vote.create(
            round_id=round_id,
            territory_id=territory,
            theme_id=theme_id,
            cast_by_id=viewer.account_id,
        )
        await note_change(
            viewer, "vote.cast", vote, {"theme": [None, theme_id], "territory": [None, territory]}
        )
    round_changed(round_id)
    return vote


async def withdraw_vote(
    viewer: Viewer,
    round_id: int,
    *,
    theme_id: int,
    territory_id: int | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Take back the viewer's authority's vote for a theme while the round is open."""
    authorize(viewer, "vote.withdraw")
    territory = _own_territory(viewer, territory_id)
    at = at or now()
    async with write_transaction():
        voting_round = await _locked_round(round_id)
        if not is_open(voting_round, at):
            raise RoundClosed(
                "Ce tour de vote n'est pas ouvert : les votes sont figés.", field="round"
            )
        vote = await Vote.filter(
            round_id=round_id, territory_id=territory, theme_id=theme_id
        ).first()
        if vote is None:
            raise NotFound("Aucun vote de votre collectivité pour cette thématique.", field="theme")
        await note_change(
            viewer,
            "vote.withdraw",
            vote,
            {"theme": [theme_id, None], "territory": [territory, None]},
        )
        await vote.delete()
    round_changed(round_id)


async def winner_of(round_id: int) -> int | None:
    """The winning theme: most votes; on a tie, the theme that reached its score first
    (its last vote is the earliest); then alphabetical order of slugs. None without votes."""
    rows = (
        await Vote.filter(round_id=round_id)
        .annotate(n=Count("id"), last=Max("created_at"))
        .group_by("theme_id")
        .values("theme_id", "n", "last")
    )
    if not rows:
        return None
    slugs = dict(await Theme.filter(id__in=[r["theme_id"] for r in rows]).values_list("id", "slug"))
    best = min(rows, key=lambda r: (-r["n"], _as_datetime(r["last"]), slugs[r["theme_id"]]))
    return best["theme_id"]


def _as_datetime(value: dt.datetime | str) -> dt.datetime:
    # SQLite hands aggregate datetimes back as text.
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


async def _close(viewer: Viewer | None, round_id: int, at: dt.datetime) -> VotingRound:
    async with write_transaction():
        voting_round = await _locked_round(round_id)
        if voting_round.closed_at is not None:
            return voting_round  # closing twice is harmless
        winner = await winner_of(round_id)
        voting_round.closed_at = at
        voting_round.winner_id = winner  # type: ignore[attr-defined]
        await voting_round.save(update_fields=["closed_at", "winner_id", "updated_at"])
        changes: dict[str, list[object]] = {
            "closed_at": [None, at.isoformat()],
            "winner": [None, winner],
        }
        if winner is not None:
            theme = await Theme.get(id=winner)
            project = await SharedProject.create(
                slug=await unique_slug(SharedProject, slugify(theme.title)),
                title=theme.title,
                summary=theme.introduction[:SUMMARY_MAX],
                theme_id=winner,
                status=ProjectStatus.DRAFT,
                voting_round_id=round_id,
            )
            changes["shared_project"] = [None, project.id]
        await note_change(viewer, "round.close", voting_round, changes)
    round_changed(round_id)
    return voting_round


async def close_voting_round(viewer: Viewer, round_id: int) -> VotingRound:
    """Close now (editors); the winner becomes a draft shared project."""
    authorize(viewer, "round.close")
    return await _close(viewer, round_id, now())


async def close_due_rounds(
    *, at: dt.datetime | None = None, by: Viewer | None = None
) -> list[VotingRound]:
    """Close every round whose closing date has passed (the scheduler's tick); the audit
    log records each closing under ``by`` (the operator who ran it; None: the platform)."""
    at = at or now()
    due = await VotingRound.filter(closed_at__isnull=True, closes_at__lte=at).values_list(
        "id", flat=True
    )
    return [await _close(by, round_id, at) for round_id in due]


async def list_votes(viewer: Viewer, round_ids: Sequence[int]) -> dict[int, list[Vote]]:
    """Who voted for what: every vote for editors, one's own authority's for its members,
    nothing for anyone else."""
    if is_allowed(viewer, "vote.read_all"):
        rows = Vote.filter(round_id__in=list(round_ids))
    elif viewer.territory_id is not None:
        rows = Vote.filter(round_id__in=list(round_ids), territory_id=viewer.territory_id)
    else:
        return {}
    grouped: dict[int, list[Vote]] = {}
    for vote in await rows.order_by("id"):
        grouped.setdefault(vote.round_id, []).append(vote)  # type: ignore[attr-defined]
    return grouped


async def ranking_fingerprint(round_id: int) -> tuple[int, int, str | None]:
    """Changes whenever a vote is cast or withdrawn, or the round closes (cheap to poll)."""
    stats = (
        await Vote.filter(round_id=round_id).annotate(n=Count("id"), m=Max("id")).values("n", "m")
    )
    closed = await VotingRound.filter(id=round_id).values_list("closed_at", flat=True)
    row = stats[0] if stats else {"n": 0, "m": 0}
    return (row["n"] or 0, row["m"] or 0, str(closed[0]) if closed else None)
