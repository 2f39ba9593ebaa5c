"""Instants given as a date, or relative to the moment a request is handled.

One format, ISO 8601 throughout: a date-time with its UTC offset
(``2027-01-04T09:00:00+01:00``), the word ``now``, or a duration counted from now
(``P7D``: in seven days; ``PT12H``, ``P1DT6H``, ``P2W``). Durations take weeks, days,
hours, minutes and seconds only: months and years have no fixed length.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from services.errors import BadUserInput

_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)
_LONGEST = dt.timedelta(days=3660)


@dataclass(frozen=True)
class Moment:
    """An instant as given: ``at`` when absolute, else ``later`` after the moment the
    request is handled (zero for ``now``)."""

    text: str
    at: dt.datetime | None = None
    later: dt.timedelta = dt.timedelta(0)

    def resolve(self, now: dt.datetime) -> dt.datetime:
        return self.at if self.at is not None else now + self.later


def parse_moment(value: str, *, field: str) -> Moment:
    """Read ``now``, an ISO 8601 duration from now or an ISO 8601 date-time with offset;
    :class:`BadUserInput` on ``field`` otherwise."""
    text = value.strip()
    if text.lower() == "now":
        return Moment(text="now")
    if text[:1] in ("P", "p"):
        return Moment(text=text, later=_duration(text.upper(), field=field))
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise BadUserInput(
            "Date ISO 8601 avec fuseau (2027-01-04T09:00:00+01:00), « now » ou durée "
            "ISO 8601 à partir de maintenant (P7D, PT12H, P1DT6H) attendue.",
            field=field,
        )
    return Moment(text=text, at=at)


def _duration(text: str, *, field: str) -> dt.timedelta:
    found = _DURATION.fullmatch(text)
    if found is None or text in ("P", "PT") or text.endswith("T"):
        raise BadUserInput(
            f"Durée ISO 8601 invalide : « {text} » (ex. P7D, PT12H, P1DT6H ; semaines, "
            "jours, heures, minutes et secondes seulement).",
            field=field,
        )
    parts = {name: int(amount) for name, amount in found.groupdict().items() if amount}
    length = dt.timedelta(**parts)
    if length > _LONGEST:
        raise BadUserInput("Durée trop longue (dix ans au plus).", field=field)
    return length
