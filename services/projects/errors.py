"""Expected failures of shared projects, each with its own machine code."""

from __future__ import annotations

from services.errors import Conflict


class SeatTaken(Conflict):
    code = "SEAT_TAKEN"


class AlreadyMember(Conflict):
    code = "ALREADY_MEMBER"


class NotEnoughParticipants(Conflict):
    code = "NOT_ENOUGH_PARTICIPANTS"


class WrongProjectState(Conflict):
    code = "WRONG_PROJECT_STATE"
