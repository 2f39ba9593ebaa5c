"""Voting mutations: open a round, cast and withdraw votes, close a round."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.payloads import object_payload, payload_mutation
from schema.relay import decode_id, decode_ids
from schema.votes.types import VotingRound
from services.moments import Moment
from services.votes import voting

RoundID = Annotated[strawberry.ID, strawberry.argument(description="ID of the voting round.")]
ThemeID = Annotated[strawberry.ID, strawberry.argument(description="ID of a candidate theme.")]
TerritoryID = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="Your local authority (optional: it is the one you act "
        "for; any other is FORBIDDEN)."
    ),
]

VotingRoundPayload = object_payload(
    "VotingRoundPayload", "voting_round", VotingRound, "The voting round, as it is now."
)


@strawberry.input(description="A new voting round.")
class VotingRoundInput:
    title: str = strawberry.field(description="Title, in French.")
    description: str = strawberry.field(default="", description="What is at stake.")
    opens_at: Moment = strawberry.field(
        description="Opening: a date with its UTC offset, `now`, or a duration from now (`P1D`)."
    )
    closes_at: Moment = strawberry.field(
        description="Closing: a date with its UTC offset, or a duration from now (`P7D`: a "
        "week from now); one already past, or not after the opening, is refused "
        "(CLOSES_IN_PAST, CLOSES_BEFORE_OPENING)."
    )
    votes_per_territory: int = strawberry.field(
        default=voting.DEFAULT_VOTES_PER_TERRITORY,
        description="Votes each local authority may cast (one per theme at most).",
    )
    candidates: list[strawberry.ID] = strawberry.field(description="IDs of candidate themes.")


async def _round(round_id: int) -> VotingRound:
    from services.votes.models import VotingRound as RoundModel

    return VotingRound.from_model(await RoundModel.get(id=round_id))


@registry.mutation
@strawberry.type
class VotingMutations:
    @payload_mutation(
        VotingRoundPayload, description="Open a voting round on candidate themes (editors)."
    )
    async def open_voting_round(
        self,
        info: strawberry.Info,
        input: Annotated[VotingRoundInput, strawberry.argument(description="The round.")],
    ) -> VotingRound:
        draft = voting.RoundDraft(
            title=input.title,
            description=input.description,
            opens_at=input.opens_at,
            closes_at=input.closes_at,
            votes_per_territory=input.votes_per_territory,
            candidate_theme_ids=decode_ids(input.candidates, "Theme", "candidates"),
        )
        return VotingRound.from_model(
            await voting.open_voting_round(info.context.viewer, draft=draft, at=info.context.now)
        )

    @payload_mutation(
        VotingRoundPayload,
        description="Vote, for your local authority, for a candidate theme "
        "(members of a local authority; one vote per theme, "
        "`votesPerTerritory` at most).",
    )
    async def cast_vote(
        self,
        info: strawberry.Info,
        round: RoundID,
        theme: ThemeID,
        territory: TerritoryID = None,
    ) -> VotingRound:
        round_pk = decode_id(round, "VotingRound", "round")
        await voting.cast_vote(
            info.context.viewer,
            round_pk,
            theme_id=decode_id(theme, "Theme", "theme"),
            territory_id=decode_id(territory, "Territory", "territory") if territory else None,
        )
        return await _round(round_pk)

    @payload_mutation(
        VotingRoundPayload,
        description="Withdraw your local authority's vote for a theme while the round is open.",
    )
    async def withdraw_vote(
        self,
        info: strawberry.Info,
        round: RoundID,
        theme: ThemeID,
        territory: TerritoryID = None,
    ) -> VotingRound:
        round_pk = decode_id(round, "VotingRound", "round")
        await voting.withdraw_vote(
            info.context.viewer,
            round_pk,
            theme_id=decode_id(theme, "Theme", "theme"),
            territory_id=decode_id(territory, "Territory", "territory") if territory else None,
        )
        return await _round(round_pk)

    @payload_mutation(
        VotingRoundPayload,
        description="Close a round now (editors); its winner becomes a draft "
        "shared project. Closing a closed round changes nothing.",
    )
    async def close_voting_round(self, info: strawberry.Info, round: RoundID) -> VotingRound:
        closed = await voting.close_voting_round(
            info.context.viewer, decode_id(round, "VotingRound", "round")
        )
        return VotingRound.from_model(closed)
