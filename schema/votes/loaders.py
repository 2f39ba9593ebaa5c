"""DataLoaders of voting rounds."""

from __future__ import annotations

from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.votes import service, voting


def voting_round_by_id(ctx: Context) -> DataLoader[int, Any]:
    return ctx.loader("voting_round_by_id", partial(service.get_voting_rounds_by_ids, ctx.viewer))


def ranking_by_round_id(ctx: Context) -> DataLoader[int, list[Any]]:
    """The public ranking; for a viewer reading at a past date (a newsletter's), as it
    stood then."""
    fetch = partial(service.get_rankings_by_round_ids, at=ctx.viewer.as_of)
    return ctx.loader("ranking_by_round_id", fetch, default=list)


def votes_by_round_id(ctx: Context) -> DataLoader[int, list[Any]]:
    """Who voted for what, as far as this viewer may know (see services.votes.voting)."""
    return ctx.loader("votes_by_round_id", partial(voting.list_votes, ctx.viewer), default=list)
