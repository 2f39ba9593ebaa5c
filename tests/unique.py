"""Distinct names for the rows tests create in the session's shared database.

They come from a seeded generator, so a run creates the same names when it is repeated
(a failure shows the same data again); a name is never handed out twice in a session.
Names that must differ between runs sharing an outside server (a Redis key, a
Meilisearch index, a scratch PostgreSQL database) are not test data and do not use it.
"""

from __future__ import annotations

import random

SEED = 20261202
_rng = random.Random(SEED)
_given: set[str] = set()


def unique_tag(length: int = 8) -> str:
    """``length`` hexadecimal digits, different from every tag given before."""
    while True:
        tag = f"{_rng.getrandbits(4 * length):0{length}x}"
        if tag not in _given:
            _given.add(tag)
            return tag


_numbers: set[int] = set()


def unique_number(low: int, high: int) -> int:
    """A number in ``[low, high]``, different from every number given before."""
    while True:
        number = _rng.randint(low, high)
        if number not in _numbers:
            _numbers.add(number)
            return number
