"""Scalars that differ from Strawberry's own."""

from __future__ import annotations

import datetime as dt

import strawberry
from graphql import GraphQLError

from services.errors import BadUserInput
from services.moments import Moment, parse_moment


def _parse_datetime(value: object) -> dt.datetime:
    """ISO 8601, as Strawberry reads it, within what can be stored: an offset that moves
    the instant past year 9999 (or before year 1) in UTC is refused, not crashed on."""
    if not isinstance(value, str):
        raise GraphQLError(f"DateTime attendu sous forme de texte ISO 8601, reçu : {value!r}")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise GraphQLError(f"DateTime invalide : « {value} » (ISO 8601 attendu)") from None
    if parsed.tzinfo is not None:
        try:
            parsed.astimezone(dt.UTC)
        except OverflowError:
            raise GraphQLError(
                "DateTime hors des dates représentables (années 1 à 9999 en UTC)"
            ) from None
    return parsed


DATETIME = strawberry.scalar(
    name="DateTime",
    description="Date with time (isoformat)",
    serialize=dt.datetime.isoformat,
    parse_value=_parse_datetime,
)


def _parse_moment(value: object) -> Moment:
    if not isinstance(value, str):
        raise GraphQLError(f"Moment attendu sous forme de texte, reçu : {value!r}")
    try:
        return parse_moment(value, field="")
    except BadUserInput as error:
        raise GraphQLError(error.message, extensions={"code": error.code}) from None


MOMENT = strawberry.scalar(
    name="Moment",
    description="An instant, absolute or counted from when the request is handled: an ISO "
    "8601 date-time with its UTC offset (`2027-01-04T09:00:00+01:00`), `now`, or an ISO 8601 "
    "duration from now (`P7D`: in seven days; `PT12H`, `P1DT6H`, `P2W`; weeks, days, hours, "
    "minutes and seconds only).",
    serialize=lambda moment: moment.text,
    parse_value=_parse_moment,
)

SCALAR_MAP = {dt.datetime: DATETIME, Moment: MOMENT}
"""``StrawberryConfig.scalar_map`` of the schema."""
