"""Expected failures of shared projects, each with its own machine code."""

from __future__ import annotations

from services.errors import Conflict


class SeatTaken(Conflict):
    """The five participant seats of the project are taken."""

    code = "SEAT_TAKEN"


class AlreadyMember(Conflict):
    """Your local authority already takes part in the project."""

    code = "ALREADY_MEMBER"


class NotEnoughParticipants(Conflict):
    """Starting a project needs 3 to 5 confirmed participants."""

    code = "NOT_ENOUGH_PARTICIPANTS"


class WrongProjectState(Conflict):
    """The project is not in a state that allows this step."""

    code = "WRONG_PROJECT_STATE"
