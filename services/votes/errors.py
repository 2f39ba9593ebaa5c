"""Expected failures of voting, each with its own machine code."""

from __future__ import annotations

from services.errors import BadUserInput, Conflict


class RoundNotOpen(Conflict):
    code = "ROUND_NOT_OPEN"


class RoundClosed(Conflict):
    code = "ROUND_CLOSED"


class NotACandidate(BadUserInput):
    code = "NOT_A_CANDIDATE"


class AlreadyVoted(Conflict):
    code = "ALREADY_VOTED"


class VoteLimitReached(Conflict):
    code = "VOTE_LIMIT_REACHED"
