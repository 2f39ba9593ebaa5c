"""Expected failures of voting, each with its own machine code."""

from __future__ import annotations

from services.errors import BadUserInput, Conflict


class RoundNotOpen(Conflict):
    """The voting round has not opened yet."""

    code = "ROUND_NOT_OPEN"


class RoundClosed(Conflict):
    """The voting round is closed: votes can no longer change."""

    code = "ROUND_CLOSED"


class NotACandidate(BadUserInput):
    """The theme is not a candidate of this voting round."""

    code = "NOT_A_CANDIDATE"


class AlreadyVoted(Conflict):
    """Your local authority already voted for this theme in this round."""

    code = "ALREADY_VOTED"


class VoteLimitReached(Conflict):
    """Your local authority cast every vote the round allows."""

    code = "VOTE_LIMIT_REACHED"


class ClosesInPast(BadUserInput):
    """A round whose closing date has already passed could never take a vote."""

    code = "CLOSES_IN_PAST"


class ClosesBeforeOpening(BadUserInput):
    code = "CLOSES_BEFORE_OPENING"
