"""Voting-round queries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.caching import public_read
from schema.relay import After, Before, Connection, First, Last, connection, page_request
from schema.votes.loaders import voting_round_by_id
from schema.votes.types import VotingRound, VotingRoundOrder
from services.votes import service


@registry.query
@strawberry.type
class VotingRoundQueries:
    @public_read(description="Voting rounds, most recent first.")
    async def voting_rounds(
        self,
        info: strawberry.Info,
        order: Annotated[
            VotingRoundOrder | None, strawberry.argument(description="Sort order.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[VotingRound]:
        page = await service.list_voting_rounds(
            info.context.viewer,
            order=order.value if order else None,
            page=page_request(info, first, after, last, before),
        )
        return connection(page, VotingRound.from_model)

    @public_read(description="The voting round with this slug, or null.")
    async def voting_round(
        self,
        info: strawberry.Info,
        slug: Annotated[str, strawberry.argument(description="Slug of the round.")],
    ) -> VotingRound | None:
        found = await service.get_voting_round_by_slug(info.context.viewer, slug)
        return VotingRound.from_model(found) if found else None


registry.node_type("VotingRound", VotingRound, voting_round_by_id)
