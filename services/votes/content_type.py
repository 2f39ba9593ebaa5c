"""The voting round as a content type. Its writes are its own (``services/votes/``:
opening, votes, closing), not the shared ones."""

from __future__ import annotations

from services.policy import EDITORS, Principal
from services.registry import ContentType, Demo, PolicyRow, register
from services.votes.demo import load_demo_voting_round
from services.votes.models import Vote, VotingRound

LOCAL_AUTHORITY = frozenset({Principal.LOCAL_AUTHORITY})

VOTING_ROUND = register(
    ContentType(
        name="VotingRound",
        model=VotingRound,
        label="Tour de vote",
        definite="le tour de vote",
        entity="round",
        demo=Demo("voting_rounds", load_demo_voting_round, after=("Theme", "Territory")),
        followed=False,
        # Votes are audited on their own; opening a round marks its themes as candidates,
        # closing it creates the shared project of the winning theme.
        cache_parts=(Vote,),
        cache_touches=("Theme", "SharedProject"),
        policy=(
            PolicyRow("round.open", EDITORS, "openVotingRound"),
            PolicyRow("round.close", EDITORS, "closeVotingRound (before its closing date)"),
            PolicyRow("vote.cast", LOCAL_AUTHORITY, "castVote, for one's own local authority"),
            PolicyRow(
                "vote.withdraw", LOCAL_AUTHORITY, "withdrawVote, for one's own local authority"
            ),
            PolicyRow(
                "vote.read_all",
                EDITORS,
                "VotingRound.votes of every authority (others see their own only)",
            ),
        ),
    )
)
