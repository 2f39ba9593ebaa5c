"""What the demo loaders of the content types share during one load: the demo file, the
rows loaded so far (found by type and slug), the counts ``tec demo`` prints, and the
idempotent writes (a row matched by its slug is updated in place, a link is added once).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tortoise.models import Model


@dataclass
class DemoRun:
    """One load of the demo data."""

    data: dict[str, Any]
    counts: Counter[str] = field(default_factory=Counter)
    """Rows seen (``Model``) and created (``Model+``), per model."""
    rows: dict[str, dict[str, Model]] = field(default_factory=dict)
    """``{content type name: {slug: row}}`` of the rows loaded so far."""

    def row(self, content_type: str, slug: str) -> Any:
        """The loaded row of ``content_type`` with this slug (its type loads first)."""
        return self.rows[content_type][slug]

    async def upsert(self, model: Any, slug: str, values: dict[str, Any]) -> Any:
        """The row of ``model`` with this slug, created or brought up to ``values``."""
        row, created = await model.update_or_create(defaults=values, slug=slug)
        self.counts[model.__name__] += 1
        self.counts[f"{model.__name__}+"] += int(created)
        return row

    async def link(self, model: Any, **keys: Any) -> None:
        """A row of the link table ``model``, added unless it is there."""
        _, created = await model.get_or_create(**keys)
        if created:
            self.counts[f"{model.__name__}+"] += 1

    def created(self, model: Any, made: bool) -> None:
        """Count a row a loader wrote itself (created when ``made``)."""
        self.counts[f"{model.__name__}+"] += int(made)


def month(value: str | None) -> dt.date | None:
    """The first day of a ``YYYY-MM`` month of the demo file."""
    return dt.date.fromisoformat(f"{value}-01") if value else None


def when(value: str) -> dt.datetime:
    """A moment of the demo file (ISO 8601 with its offset)."""
    return dt.datetime.fromisoformat(value)


def day(value: str | None) -> dt.date | None:
    """A day of the demo file (``YYYY-MM-DD``), or None."""
    return dt.date.fromisoformat(value) if value else None


def published(value: str | None) -> dt.datetime | None:
    """Publication at 9:00 UTC on the first day of a ``YYYY-MM`` month, or None."""
    return when(f"{value}-01T09:00:00+00:00") if value else None
