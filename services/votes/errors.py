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


class ClosesInPast(BadUserInput):
    """A round whose closing date has already passed could never take a vote."""

    code = "CLOSES_IN_PAST"


class ClosesBeforeOpening(BadUserInput):
    code = "CLOSES_BEFORE_OPENING"
