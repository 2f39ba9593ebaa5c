"""GraphQL types of voting rounds and their public ranking."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.relay import Node
from schema.votes import loaders
from services.votes.models import VotingRound as RoundModel

if TYPE_CHECKING:
    from schema.themes.types import Theme


@strawberry.enum(description="Sort orders of voting rounds.")
class VotingRoundOrder(enum.Enum):
    OPENS_AT_DESC = strawberry.enum_value("OPENS_AT_DESC", description="Most recent first.")


@strawberry.type(description="A candidate theme's place in the ranking of a round.")
class RankingEntry:
    theme: Annotated[Theme, strawberry.lazy("schema.themes.types")] = strawberry.field(
        description="The candidate theme."
    )
    votes: int = strawberry.field(description="Number of votes it received.")
    rank: int = strawberry.field(description="Rank (1 = most votes; ties share a rank).")


@strawberry.type(
    description="A round in which local authorities vote for the themes of the next shared "
    "projects (« Votez pour une thématique et suivez le classement »)."
)
class VotingRound(Node):
    slug: str = strawberry.field(description="Unique, URL-friendly name.")
    title: str = strawberry.field(description="Title, in French.")
    description: str = strawberry.field(description="What the round is about.")
    opens_at: dt.datetime = strawberry.field(description="When voting opens (UTC).")
    closes_at: dt.datetime = strawberry.field(description="When voting closes (UTC).")
    votes_per_territory: int = strawberry.field(
        description="How many themes each local authority may vote for (one vote per theme)."
    )
    closed_at: dt.datetime | None = strawberry.field(description="When the round was closed.")

    @classmethod
    def from_model(cls, m: RoundModel) -> VotingRound:
        return cls(
            pk=m.id,
            slug=m.slug,
            title=m.title,
            description=m.description,
            opens_at=m.opens_at,
            closes_at=m.closes_at,
            votes_per_territory=m.votes_per_territory,
            closed_at=m.closed_at,
        )

    @strawberry.field(description="True while local authorities can vote.")
    def is_open(self, info: strawberry.Info) -> bool:
        now = info.context.now
        return self.closed_at is None and self.opens_at <= now < self.closes_at

    @strawberry.field(description="Candidate themes by number of votes (public).")
    async def ranking(self, info: strawberry.Info) -> list[RankingEntry]:
        from schema.themes.types import Theme

        rows = await loaders.ranking_by_round_id(info.context).load(self.pk)
        return [
            RankingEntry(theme=Theme.from_model(r.theme), votes=r.votes, rank=r.rank) for r in rows
        ]
