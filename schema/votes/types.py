"""GraphQL types of voting rounds and their public ranking."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.directives import VIEWER_DEPENDENT
from schema.relay import Node
from schema.votes import loaders
from services.votes.models import VotingRound as RoundModel

if TYPE_CHECKING:
    from schema.territories.types import Territory
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
    winner_pk: strawberry.Private[int | None] = None

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
            winner_pk=m.winner_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="True while local authorities can vote.")
    def is_open(self, info: strawberry.Info) -> bool:
        now = info.context.now
        return self.closed_at is None and self.opens_at <= now < self.closes_at

    @strawberry.field(
        description="The winning theme once the round is closed: most votes; on "
        "a tie, the theme that reached its score first; then alphabetical order."
    )
    async def winner(
        self, info: strawberry.Info
    ) -> Annotated[Theme, strawberry.lazy("schema.themes.types")] | None:
        from schema.themes.loaders import theme_by_id
        from schema.themes.types import Theme

        if self.winner_pk is None:
            return None
        found = await theme_by_id(info.context).load(self.winner_pk)
        return Theme.from_model(found) if found else None

    @strawberry.field(
        description="Who voted for what: every vote for editors, your own "
        "authority's votes for its members, nothing for anyone else.",
        directives=[VIEWER_DEPENDENT],
    )
    async def votes(self, info: strawberry.Info) -> list[Vote]:
        rows = await loaders.votes_by_round_id(info.context).load(self.pk)
        return [
            Vote(cast_at=v.created_at, territory_pk=v.territory_id, theme_pk=v.theme_id)
            for v in rows
        ]

    @strawberry.field(description="Candidate themes by number of votes (public).")
    async def ranking(self, info: strawberry.Info) -> list[RankingEntry]:
        from schema.themes.types import Theme

        rows = await loaders.ranking_by_round_id(info.context).load(self.pk)
        return [
            RankingEntry(theme=Theme.from_model(r.theme), votes=r.votes, rank=r.rank) for r in rows
        ]


@strawberry.type(
    description="One local authority's vote for one theme (private: editors see "
    "all votes, members of an authority their own authority's only)."
)
class Vote:
    cast_at: dt.datetime = strawberry.field(description="When it was cast.")
    territory_pk: strawberry.Private[int]
    theme_pk: strawberry.Private[int]

    @strawberry.field(description="The local authority that voted.")
    async def territory(
        self, info: strawberry.Info
    ) -> Annotated[Territory, strawberry.lazy("schema.territories.types")]:
        from schema.territories.loaders import territory_by_id
        from schema.territories.types import Territory

        return Territory.from_model(await territory_by_id(info.context).load(self.territory_pk))

    @strawberry.field(description="The theme it voted for.")
    async def theme(
        self, info: strawberry.Info
    ) -> Annotated[Theme, strawberry.lazy("schema.themes.types")] | None:
        from schema.themes.loaders import theme_by_id
        from schema.themes.types import Theme

        found = await theme_by_id(info.context).load(self.theme_pk)
        return Theme.from_model(found) if found else None
