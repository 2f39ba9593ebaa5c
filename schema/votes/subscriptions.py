"""The live ranking of a voting round (graphql-transport-ws)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from schema import registry
from schema.relay import decode_id
from schema.votes.types import VotingRound
from services.errors import NotFound
from services.votes import service, voting
from services.votes.notifications import wait_for_change

# Votes cast through another app process are noticed by polling at this pace.
POLL_SECONDS = 1.0


@registry.subscription
@strawberry.type
class VotingSubscriptions:
    @strawberry.subscription(
        description="The round, each time its ranking may have changed: "
        "at once, then after every vote cast or withdrawn and at its "
        "close."
    )
    async def voting_round_updated(
        self,
        info: strawberry.Info,
        round: Annotated[strawberry.ID, strawberry.argument(description="ID of the round.")],
    ) -> AsyncGenerator[VotingRound, None]:
        round_pk = decode_id(round, "VotingRound", "round")
        ctx = info.context
        seen = None
        while True:
            fingerprint = await voting.ranking_fingerprint(round_pk)
            if fingerprint != seen:
                seen = fingerprint
                found = (await service.get_voting_rounds_by_ids(ctx.viewer, [round_pk])).get(
                    round_pk
                )
                if found is None:
                    raise NotFound("Tour de vote introuvable.", field="round")
                ctx.clear_loaders()  # a long-lived connection must not serve stale rankings
                yield VotingRound.from_model(found)
            await wait_for_change(round_pk, timeout=POLL_SECONDS)
