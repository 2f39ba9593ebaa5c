"""Reading voting rounds, their candidates and the public ranking."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.functions import Count

from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.themes.models import Theme
from services.viewer import Viewer, visible
from services.votes.models import Candidate, Vote, VotingRound

ORDERINGS: dict[str, Ordering] = {
    "OPENS_AT_DESC": Ordering((SortKey("opens_at", True, "datetime"), SortKey("id", True, "int"))),
}


@dataclass(frozen=True)
class RankingEntry:
    """A candidate theme, its number of votes and its rank (ties share a rank)."""

    theme: Theme
    votes: int
    rank: int


async def list_voting_rounds(
    viewer: Viewer, *, order: str | None, page: PageRequest
) -> Page[VotingRound]:
    return await paginate(
        VotingRound.filter(visible(viewer)), ORDERINGS[order or "OPENS_AT_DESC"], page
    )


async def get_voting_round_by_slug(viewer: Viewer, slug: str) -> VotingRound | None:
    return await VotingRound.filter(visible(viewer), slug=slug).first()


async def get_voting_rounds_by_ids(viewer: Viewer, ids: Sequence[int]) -> dict[int, VotingRound]:
    return {r.id: r for r in await VotingRound.filter(visible(viewer), id__in=list(ids))}


async def get_rankings_by_round_ids(
    ids: Sequence[int], *, at: dt.datetime | None = None
) -> dict[int, list[RankingEntry]]:
    """Candidates of each round by votes (most first; ties by title), two statements.
    ``at``: the ranking as it stood then (votes cast by that time); the present if None."""
    candidates = await Candidate.filter(round_id__in=list(ids)).select_related("theme")
    cast = Vote.filter(round_id__in=list(ids))
    if at is not None:
        cast = cast.filter(created_at__lte=at)
    counts = {
        (row["round_id"], row["theme_id"]): row["n"]
        for row in await cast.annotate(n=Count("id"))
        .group_by("round_id", "theme_id")
        .values("round_id", "theme_id", "n")
    }
    by_round: dict[int, list[tuple[Theme, int]]] = defaultdict(list)
    for c in candidates:
        by_round[c.round_id].append((c.theme, counts.get((c.round_id, c.theme_id), 0)))
    rankings: dict[int, list[RankingEntry]] = {}
    for round_id, entries in by_round.items():
        entries.sort(key=lambda e: (-e[1], e[0].slug))
        ranked: list[RankingEntry] = []
        for position, (theme, votes) in enumerate(entries, start=1):
            rank = ranked[-1].rank if ranked and ranked[-1].votes == votes else position
            ranked.append(RankingEntry(theme=theme, votes=votes, rank=rank))
        rankings[round_id] = ranked
    return rankings
