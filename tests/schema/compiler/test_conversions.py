"""The values Python finishes after the database: each is the one the ordinary executor
writes, the instants PostgreSQL already writes in UTC passed on as they are included."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from graphql import parse

from schema import build_schema
from schema.compiler.plan import OperationPlan, Planner
from schema.strawberry_compat import graphql_core_schema
from services.compat_tortoise import keeps_utc, value_converters
from services.resources.models import Resource

DOCUMENT = "{ resources { nodes { publishedAt updatedAt } } }"


def _converters() -> dict[str, object]:
    schema = graphql_core_schema(build_schema())
    operation = parse(DOCUMENT).definitions[0]
    plan = Planner(schema, operation, {}, {}).plan()  # type: ignore[arg-type]
    assert isinstance(plan, OperationPlan)
    return dict(plan.roots[0].objects[0].converted)  # type: ignore[union-attr]


def _texts() -> list[object]:
    """Raw values as a database may hand them: ISO text in UTC to the second or with a
    fraction (as PostgreSQL trims it), other offsets, SQLite's space, out-of-range and
    non-ISO text, week dates, nulls."""
    rng = random.Random(20261203)
    found: list[object] = [
        None,
        "2025-12-31T11:00:00+00:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59+00:00",
        "2025-12-31T11:00:00.123456+00:00",
        "2025-12-31T11:00:00.123450+00:00",
        "2025-12-31T11:00:00.12345+00:00",
        "2025-12-31T11:00:00.000000+00:00",
        "2025-12-31T11:00:00+01:00",
        "2025-12-31T11:00:00Z",
        "2025-12-31 11:00:00+00:00",
        "2025-W01-1T11:00:00+00:00",
        "2025-02-29T11:00:00+00:00",
        "2025-12-31T24:00:00+00:00",
        "2025-12-31T23:59:60+00:00",
        "0000-01-01T00:00:00+00:00",
        "2025-12-31T11:00:00+00:00 ",
        "２０２５-12-31T11:00:00+00:00",
    ]
    for _ in range(300):
        instant = dt.datetime(2000, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            seconds=rng.randrange(10**9), microseconds=rng.choice([0, rng.randrange(10**6)])
        )
        text = instant.isoformat()
        found.append(text)
        fraction = f"{instant.microsecond:06d}"
        if instant.microsecond:
            found.append(text.replace(fraction, fraction.rstrip("0")))
    return found


@pytest.mark.usefixtures("database")
@pytest.mark.parametrize("key", ["publishedAt", "updatedAt"])
def test_a_datetime_is_the_isoformat_of_the_models_value(key: str) -> None:
    convert = _converters()[key]
    attribute = {"publishedAt": "published_at", "updatedAt": "updated_at"}[key]
    model_value = value_converters(Resource)[attribute]
    assert model_value is not None and keeps_utc(model_value)
    for raw in _texts():
        expected = _outcome(lambda raw: _isoformat(model_value(raw)), raw)
        assert _outcome(convert, raw) == expected, raw


def _isoformat(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _outcome(convert: object, raw: object) -> tuple[str, object]:
    """What ``convert`` makes of ``raw``: its value, or the type of error it raises."""
    try:
        return ("value", convert(raw))  # type: ignore[operator]
    except Exception as error:
        return ("error", type(error))


@pytest.mark.usefixtures("database")
def test_only_a_datetime_column_kept_in_utc_passes_text_on() -> None:
    converters = value_converters(Resource)
    assert keeps_utc(converters["published_at"])
    assert not keeps_utc(converters["kind"])
    assert not keeps_utc(converters["title"])
