"""Domain errors. Each carries a machine code; the GraphQL layer maps them in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of expected failures: the message (French) is safe to show to the person who
    asked; ``operator_message`` is the same in English, for the operators' ``tec`` command,
    where the failure has one."""

    code = "BAD_REQUEST"

    def __init__(
        self, message: str, *, field: str | None = None, operator_message: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.operator_message = operator_message


class NotFound(DomainError):
    code = "NOT_FOUND"


class BadUserInput(DomainError):
    code = "BAD_USER_INPUT"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Conflict(DomainError):
    code = "CONFLICT"


class RateLimited(DomainError):
    code = "RATE_LIMITED"


class Unavailable(DomainError):
    """The database could not serve the request in time (another process kept it busy):
    nothing was changed, the same request may succeed a moment later."""

    code = "SERVICE_UNAVAILABLE"


class InvalidInput(BadUserInput):
    """Several fields refused at once: ``errors`` holds one :class:`BadUserInput` each,
    so a form can show every problem after one round trip."""

    def __init__(self, errors: list[BadUserInput]) -> None:
        super().__init__(" ; ".join(e.message for e in errors), field=errors[0].field)
        self.errors = errors
