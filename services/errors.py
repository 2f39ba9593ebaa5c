"""Domain errors. Each carries a machine code; the GraphQL layer maps them in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


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
    """The object does not exist, or is not visible to you."""

    code = "NOT_FOUND"


class BadUserInput(DomainError):
    """A value of the input is refused: its field says which."""

    code = "BAD_USER_INPUT"


class Forbidden(DomainError):
    """Your role does not allow this operation."""

    code = "FORBIDDEN"


class Unauthenticated(DomainError):
    """Signing in is needed, or the credentials were refused."""

    code = "UNAUTHENTICATED"


class Conflict(DomainError):
    """The object changed since you read it (its version), or is still in use."""

    code = "CONFLICT"


class RateLimited(DomainError):
    """Too many requests: wait before trying again."""

    code = "RATE_LIMITED"


class Unavailable(DomainError):
    """The database could not serve the request in time (another process kept it busy):
    nothing was changed, the same request may succeed a moment later."""

    code = "SERVICE_UNAVAILABLE"


class InvalidInput(BadUserInput):
    """Several fields refused at once: ``errors`` holds one refusal each (a
    :class:`BadUserInput` mostly, or another input refusal with a code of its own), so a
    form can show every problem after one round trip."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__(" ; ".join(e.message for e in errors), field=errors[0].field)
        self.errors = errors


class Problems:
    """The refusals of a form's fields, gathered so that all of them are reported at once
    (:class:`InvalidInput`) instead of the first one only."""

    def __init__(self) -> None:
        self.found: list[DomainError] = []

    def add(self, problem: DomainError) -> None:
        """Note a refusal: a bad value (:class:`BadUserInput`), or another refusal of what
        was given, such as a template whose document does not validate. The refusals of
        an :class:`InvalidInput` are noted one by one."""
        if isinstance(problem, InvalidInput):
            self.found.extend(problem.errors)
        else:
            self.found.append(problem)

    def check(self, read: Callable[[], T]) -> T | None:
        """``read()``, or None after noting the field it refused."""
        try:
            return read()
        except BadUserInput as problem:
            self.add(problem)
            return None

    async def check_async(self, read: Callable[[], Awaitable[T]]) -> T | None:
        """``await read()``, or None after noting the field it refused."""
        try:
            return await read()
        except BadUserInput as problem:
            self.add(problem)
            return None

    def raise_any(self) -> None:
        """Raise what was found: a single refusal as it is (its own code), several as one
        :class:`InvalidInput`."""
        if len(self.found) == 1:
            raise self.found[0]
        if self.found:
            raise InvalidInput(self.found)
