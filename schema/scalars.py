"""Scalars that differ from Strawberry's own."""

from __future__ import annotations

import datetime as dt

import strawberry
from graphql import GraphQLError


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

SCALAR_MAP = {dt.datetime: DATETIME}
"""``StrawberryConfig.scalar_map`` of the schema."""
