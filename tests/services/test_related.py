"""A resource's ``related`` resources (services/resources/service.py), ranked in the database,
against the ranking written plainly in Python over the same rows: seeded random themes,
links, statuses and publication times (ties, unpublished, scheduled), for anonymous
readers, editors and a reader at a past date, with windows of candidates narrower and
wider than the themes."""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections.abc import Sequence

import pytest
from tortoise.transactions import in_transaction

from services.content import ContentStatus
from services.resources import service
from services.resources.models import Resource, ResourceTheme
from services.themes.models import Theme
from services.viewer import ANONYMOUS, Role, Viewer, visible
from tests.sqlcount import count_queries

SEED = 20261202
NOW = dt.datetime.now(dt.UTC)
VIEWERS = {
    "anonymous": ANONYMOUS,
    "editor": Viewer(role=Role.EDITOR, account_id=1),
    "reader a year ago": Viewer(as_of=NOW - dt.timedelta(days=365)),
}


class _RolledBack(Exception):
    """Raised at the end of a test to roll its rows back."""


async def _python_ranking(
    viewer: Viewer, ids: Sequence[int], *, limit: int, window: int
) -> dict[int, list[int]]:
    """Every visible resource of the resources' themes read, kept when it is among the
    ``window`` highest ids of the theme's resources (visible or not), scored and ranked
    here: the most shared themes first, then the newest publication (unpublished last),
    then the highest id."""
    own = await ResourceTheme.filter(resource_id__in=list(ids)).values_list(
        "resource_id", "theme_id"
    )
    themes_of: dict[int, set[int]] = {}
    for resource_id, theme_id in own:
        themes_of.setdefault(resource_id, set()).add(theme_id)
    links = await ResourceTheme.filter(
        visible(viewer, "resource__"),
        theme_id__in=list({t for themes in themes_of.values() for t in themes}) or [-1],
    ).values_list("theme_id", "resource_id", "resource__published_at")
    everyone = await ResourceTheme.filter(
        theme_id__in=list({t for themes in themes_of.values() for t in themes}) or [-1]
    ).values_list("theme_id", "resource_id")
    newest: dict[int, list[int]] = {}
    for theme_id, other_id in everyone:
        newest.setdefault(theme_id, []).append(other_id)
    windows = {t: set(sorted(rs, reverse=True)[:window]) for t, rs in newest.items()}
    by_theme: dict[int, list[int]] = {}
    published: dict[int, float] = {}
    for theme_id, other_id, published_at in links:
        if other_id not in windows[theme_id]:
            continue
        by_theme.setdefault(theme_id, []).append(other_id)
        published[other_id] = published_at.timestamp() if published_at else 0.0
    ranked: dict[int, list[int]] = {}
    for resource_id, themes in themes_of.items():
        scores: dict[int, int] = {}
        for theme_id in themes:
            for other_id in by_theme.get(theme_id, []):
                if other_id != resource_id:
                    scores[other_id] = scores.get(other_id, 0) + 1
        best = heapq.nsmallest(limit, scores, key=lambda r: (-scores[r], -published[r], -r))
        if best:
            ranked[resource_id] = best
    return ranked


async def _seed(rng: random.Random) -> list[int]:
    """Ten themes and 150 resources of this test; their ids."""
    themes = [
        await Theme.create(slug=f"related-theme-{i}", title=f"Thème lié {i}") for i in range(10)
    ]
    # Few distinct times, so that ties on the number of themes and on the date are common.
    times = [NOW - dt.timedelta(days=d) for d in (1, 1, 30, 400, 800)] + [
        NOW + dt.timedelta(days=10),  # scheduled: not yet visible to readers
        None,
    ]
    statuses = [ContentStatus.PUBLISHED] * 6 + [ContentStatus.DRAFT, ContentStatus.ARCHIVED]
    ids = []
    for i in range(150):
        status = rng.choice(statuses)
        resource = await Resource.create(
            slug=f"related-{i}",
            title=f"Ressource liée {i}",
            status=status,
            published_at=rng.choice(times),
        )
        ids.append(resource.id)
        for theme in rng.sample(themes, rng.choice((0, 1, 1, 2, 2, 3, 4))):
            await ResourceTheme.create(resource_id=resource.id, theme_id=theme.id)
    return ids


async def test_related_ranks_as_the_python_ranking_on_random_data(database):
    rng = random.Random(SEED)
    compared = 0
    with pytest.raises(_RolledBack):
        async with in_transaction():
            ids = await _seed(rng)
            for name, viewer in VIEWERS.items():
                # Windows of a few resources per theme, and one wider than every theme.
                for limit, window in ((1, 1000), (3, 12), (5, 30), (20, 1000), (5, 3)):
                    batches = [[i] for i in rng.sample(ids, 25)]
                    batches += [rng.sample(ids, 7), rng.sample(ids, 33), ids]
                    for batch in batches:
                        expected = await _python_ranking(viewer, batch, limit=limit, window=window)
                        found = await service.get_related_by_resource_ids(
                            viewer, batch, limit=limit, window=window
                        )
                        got = {k: [r.id for r in v] for k, v in found.items()}
                        assert got == expected, (name, limit, window, batch)
                        compared += len(expected)
            raise _RolledBack
    assert compared > 1000


async def test_related_is_one_statement_for_any_number_of_resources(database):
    ids = [r.id for r in await Resource.all().order_by("id").limit(12)]
    for batch in (ids[:1], ids):
        with count_queries() as statements:
            found = await service.get_related_by_resource_ids(ANONYMOUS, batch, limit=5)
        assert len(statements) == 1, statements
        assert found
        for related in found.values():
            assert all(r.status == ContentStatus.PUBLISHED for r in related)


async def test_related_asks_nothing_for_no_resource_or_a_zero_limit(database):
    with count_queries() as statements:
        assert await service.get_related_by_resource_ids(ANONYMOUS, [], limit=5) == {}
        assert await service.get_related_by_resource_ids(ANONYMOUS, [1], limit=0) == {}
    assert statements == []
