"""The read compiler answers exactly what the ordinary executor answers.

Seeded random documents (``documents.py``) over what the compiler covers (every root
list, lookups, children, ``related``, children's connections, private fields for editors)
and what it leaves to the ordinary executor run through a schema with the read compiler
(a quarter of them twice, the second time from the statements its root lists kept) and
through the same schema without it, as an anonymous reader, an editor and a partner,
over seeded random content (drafts, archived and scheduled resources, themes and concepts,
ties on every sort key, random links, rejection reasons). The whole response bodies must
be equal, errors included (bad cursors, cursors of another order, page sizes out of
range). A share of the documents must really be answered by the compiler, each viewer's
among them and each root list's, so the comparison cannot pass by every document falling
back.
"""

from __future__ import annotations

import copy
import datetime as dt
import gc
import json
import os
import random
import re
from typing import Any

import pytest

from schema import build_schema
from schema.context import Context
from schema.relay import to_global_id
from services.concepts.models import Concept, ConceptOrganization
from services.content import Audience, ContentStatus
from services.events.models import Event, EventFormat, EventOrganizer, EventTheme
from services.organizations.models import Organization
from services.resources.models import (
    Resource,
    ResourceKind,
    ResourceOrganization,
    ResourceTerritory,
    ResourceTheme,
)
from services.territories.models import Territory
from services.themes.models import Theme
from services.viewer import Role, Viewer
from tests.schema.compiler.documents import (
    EVENT_ORDERS,
    LISTS,
    ORDERS,
    Document,
    Generator,
    Pool,
)

pytestmark = pytest.mark.heavy(seconds=60)

SEED = int(os.environ.get("TEC_DIFFERENTIAL_SEED", "20261202"))
DOCUMENTS = int(os.environ.get("TEC_DIFFERENTIAL_DOCUMENTS", "2000"))
RESOURCES = 50
EVENTS = 20

VIEWERS = {
    "anonymous": Viewer(),
    "editor": Viewer(role=Role.EDITOR, account_id=1),
    "partner": Viewer(role=Role.PARTNER, organization_id=1),
}


@pytest.fixture(scope="module")
async def random_content(database):
    """:func:`add_random_content`, removed after the module."""
    content = await add_random_content(random.Random(SEED))
    yield content
    await Resource.filter(id__in=content["resources"]).delete()
    await Event.filter(id__in=content["events"]).delete()
    await Theme.filter(slug__startswith=content["prefix"]).delete()
    await Concept.filter(slug__startswith=content["prefix"]).delete()


async def add_random_content(rng: random.Random) -> dict[str, Any]:
    """Resources and themes with random states, dates (past, scheduled, none; few
    distinct instants, microseconds included) and links."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    instants = [
        now - dt.timedelta(days=400, microseconds=123456),
        now - dt.timedelta(days=30),
        dt.datetime(2021, 6, 30, 22, 30, tzinfo=dt.UTC),  # 2021 in UTC, 2021 in Paris too
        dt.datetime(2022, 12, 31, 23, 30, tzinfo=dt.UTC),  # 2023 in Paris
        now + dt.timedelta(days=20),  # scheduled
    ]
    statuses = [ContentStatus.PUBLISHED] * 5 + [
        ContentStatus.DRAFT,
        ContentStatus.SUBMITTED,
        ContentStatus.ARCHIVED,
    ]
    tag = f"{rng.getrandbits(24):06x}"  # from the seed: a failure's slugs come back
    themes = [t.id for t in await Theme.all().limit(5)]
    # Months around today's, so that the theme of the month and the next theme (read at
    # the present by both paths) change hands among these themes; one theme per month.
    month = dt.date.today().replace(day=1)
    around = [_months_after(month, k) for k in (-2, -1, 0, 1, 2)]
    taken = set(await Theme.filter(month__in=around).values_list("month", flat=True))
    free = [m for m in around if m not in taken]
    for i in range(4):
        theme_month = rng.choice([None, *free])
        if theme_month is not None:
            free.remove(theme_month)
        theme = await Theme.create(
            slug=f"diff-{tag}-theme-{i}",
            title=f"Thème {rng.choice('ABC')} {i}",
            status=rng.choice(statuses),
            published_at=rng.choice([*instants, None]),
            month=theme_month,
            announced_in=rng.choice([None, *around[:3]]),
            is_next=rng.random() < 0.3,
        )
        themes.append(theme.id)
    territories = [t.id for t in await Territory.all().limit(6)]
    organizations = [o.id for o in await Organization.all().limit(6)]
    made = []
    for i in range(RESOURCES):
        row = await Resource.create(
            slug=f"diff-{tag}-{rng.choice('abc')}-{i:03d}",
            title=f"Ressource {i}",
            summary=rng.choice(["", "Résumé « court »", 'Avec "guillemets" et \\ barre']),
            kind=rng.choice(list(ResourceKind)),
            audience=rng.choice(list(Audience)),
            status=rng.choice(statuses),
            published_at=rng.choice([*instants, None]),
            url=rng.choice([None, "https://example.org/r"]),
            rejection_reason=rng.choice([None, None, "Hors sujet", "Doublon « déjà » publié"]),
        )
        made.append(row.id)
        for theme in rng.sample(themes, rng.randint(0, 3)):
            await ResourceTheme.create(resource_id=row.id, theme_id=theme)
        for territory in rng.sample(territories, rng.randint(0, 2)):
            await ResourceTerritory.create(resource_id=row.id, territory_id=territory)
        for organization in rng.sample(organizations, rng.randint(0, 2)):
            await ResourceOrganization.create(resource_id=row.id, organization_id=organization)
        await Resource.filter(id=row.id).update(updated_at=rng.choice(instants[:4]))
    events = []
    for i in range(EVENTS):
        starts = rng.choice(instants) + dt.timedelta(hours=rng.choice([0, 0, 5]))
        event = await Event.create(
            slug=f"diff-{tag}-event-{i:03d}",
            title=f"Événement {i}",
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=rng.choice([1, 30])),
            all_day=rng.random() < 0.2,
            city=rng.choice([None, "Paris", "Niort", "lyon"]),
            online=rng.random() < 0.4,
            format=rng.choice(list(EventFormat)),
            status=rng.choice(statuses),
            published_at=rng.choice([*instants, None]),
        )
        events.append(event.id)
        for theme in rng.sample(themes, rng.randint(0, 2)):
            await EventTheme.create(event_id=event.id, theme_id=theme)
        for organization in rng.sample(organizations, rng.randint(0, 2)):
            await EventOrganizer.create(event_id=event.id, organization_id=organization)
    for i in range(6):
        concept = await Concept.create(
            slug=f"diff-{tag}-concept-{i}",
            title=f"Concept {rng.choice('AB')}",
            month=rng.choice([None, dt.date(2024, 5, 1), dt.date(2025, 1, 1)]),
            further_reading=rng.choice([None, "Arnstein, 1969"]),
            status=rng.choice(statuses),
            published_at=rng.choice([*instants, None]),
        )
        for organization in rng.sample(organizations, rng.randint(0, 2)):
            await ConceptOrganization.create(concept_id=concept.id, organization_id=organization)
    return {
        "events": events,
        "themes": themes,
        "territories": territories,
        "organizations": organizations,
        "resources": made,
        "prefix": f"diff-{tag}-",
    }


@pytest.fixture(scope="module")
def schemas(database):
    """The schema with the read compiler, and the same schema executing through the
    ordinary executor: one parser and validation cache for both, so a document is parsed
    and validated once."""
    outcomes: list[tuple[str, str]] = []
    compiled = build_schema(
        database.replace(read_compiler=True),
        read_compiler_outcome=lambda path, reason: outcomes.append((path, reason)),
    )
    ordinary = copy.copy(compiled)
    ordinary.execution_context_class = build_schema(
        database.replace(read_compiler=False)
    ).execution_context_class
    return compiled, ordinary, outcomes


async def _body(schema: Any, settings: Any, document: Document, viewer: Viewer) -> str:
    result = await schema.execute(
        document.query,
        variable_values=document.variables,
        context_value=Context(settings=settings, viewer=viewer),
    )
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    return json.dumps(body, ensure_ascii=False)


async def _pool(schema: Any, settings: Any, content: dict[str, Any]) -> Pool:
    """Slugs, IDs and cursors that exist (each order's cursors, as an editor sees them:
    some of them point at rows an anonymous reader does not see)."""
    cursors: dict[str, list[str]] = {}
    for field, orders in (("resources", ORDERS), ("events", EVENT_ORDERS)):
        for order in orders:
            document = Document(
                f"{{ {field}(first: 100, order: {order}) {{ edges {{ cursor }} }} }}", {}
            )
            body = json.loads(await _body(schema, settings, document, VIEWERS["editor"]))
            cursors[order] = [edge["cursor"] for edge in body["data"][field]["edges"]]
    for field, spec in LISTS.items():
        for order in spec["orders"]:
            document = Document(
                f"{{ {field}(first: 100, order: {order}) {{ edges {{ cursor }} }} }}", {}
            )
            body = json.loads(await _body(schema, settings, document, VIEWERS["editor"]))
            edges = body["data"][field]["edges"]
            cursors[f"{field}:{order}"] = [edge["cursor"] for edge in edges]
    slugs = [r.slug for r in await Resource.filter(id__in=content["resources"]).limit(30)]
    theme_slugs = [t.slug for t in await Theme.filter(id__in=content["themes"])]
    return Pool(
        resource_slugs=slugs,
        theme_slugs=theme_slugs,
        theme_ids=[to_global_id("Theme", t) for t in content["themes"]],
        territory_ids=[to_global_id("Territory", t) for t in content["territories"]],
        organization_ids=[to_global_id("Organization", o) for o in content["organizations"]],
        cursors=cursors,
        event_slugs=[e.slug for e in await Event.filter(id__in=content["events"]).limit(10)],
        organization_slugs=[
            o.slug for o in await Organization.filter(id__in=content["organizations"])
        ],
        territory_slugs=[t.slug for t in await Territory.filter(id__in=content["territories"])],
        concept_slugs=[c.slug for c in await Concept.all().limit(10)],
        node_ids=[
            *(to_global_id("Resource", pk) for pk in content["resources"][:12]),
            *(to_global_id("Theme", pk) for pk in content["themes"]),
            *(to_global_id("Event", pk) for pk in content["events"][:6]),
            *(to_global_id("Concept", c.id) for c in await Concept.all().limit(6)),
            *(to_global_id("Organization", pk) for pk in content["organizations"][:3]),
            *(to_global_id("Territory", pk) for pk in content["territories"][:3]),
            to_global_id("Account", 1),  # served, not covered
            to_global_id("Nothing", 1),  # not served: null
            to_global_id("Resource", 10**9),  # no such row
        ],
    )


# When a non-null field fails and its parent becomes null, graphql-core drops the
# coroutines of sibling fields it has not awaited; the garbage collector reports them
# (running the ordinary schema alone shows the same). They are not what this compares.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_compiled_reads_answer_as_the_ordinary_executor(database, schemas, random_content):
    compiled, ordinary, outcomes = schemas
    pool = await _pool(ordinary, database, random_content)
    generator = Generator(SEED, pool)
    rng = random.Random(SEED)
    outcomes.clear()
    covered: set[tuple[str, str]] = set()
    for number in range(DOCUMENTS):
        document = generator.document()
        who = rng.choice(["anonymous", "anonymous", "editor", "partner"])
        viewer = VIEWERS[who]
        expected = await _body(ordinary, database, document, viewer)
        answered = await _body(compiled, database, document, viewer)
        assert _same(answered, expected), f"document {number} as {who}:\n{document}"
        if outcomes[-1] == ("compiled", ""):
            features = _features(document.query) | document.lists
            covered |= {(who, feature) for feature in features}
        if number % 4 == 0:  # again: its root lists read the statements kept the first time
            again = await _body(compiled, database, document, viewer)
            assert _same(again, expected), f"document {number} as {who}, again:\n{document}"
    gc.collect()  # a coroutine left unawaited above is reported during this test
    paths = [path for path, _ in outcomes]
    compiled_share = paths.count("compiled") / len(paths)
    assert compiled_share > 0.5, f"only {compiled_share:.0%} compiled: {set(outcomes)}"
    reasons = {reason for path, reason in outcomes if path == "fallback"}
    assert {"unsupported", "arguments", "private"} <= reasons
    # Every viewer had documents with related resources and children's connections
    # answered by the compiler, editors with private fields too.
    assert {(who, f) for who in VIEWERS for f in ("related", "reverse")} <= covered
    assert ("editor", "private") in covered
    # And every viewer had each of the other root lists, node lookups and the themes of
    # the month answered by the compiler.
    roots = (*LISTS, "node", "currentTheme", "nextTheme")
    assert {(who, name) for who in VIEWERS for name in roots} <= covered


def _same(answered: str, expected: str) -> bool:
    """Equal bodies; or equal data whose errors differ only below a field the data shows
    null, with at least one error in common. When a non-null field fails, graphql-core
    nulls its parent at once while the parent's other fields may still be running: whether
    their errors make it into the response depends on which finished first (both are
    correct answers). A compiled answer is never there: an error hands the operation to
    the ordinary executor, so such bodies compare the ordinary executor with itself."""
    if answered == expected:
        return True
    first, second = json.loads(answered), json.loads(expected)
    if first.get("data") != second.get("data"):
        return False
    shown = [
        {json.dumps(error, sort_keys=True): error for error in body.get("errors", [])}
        for body in (first, second)
    ]
    common = shown[0].keys() & shown[1].keys()
    differing = (shown[0].keys() | shown[1].keys()) - common
    data = first.get("data")
    return bool(common) and all(
        _below_null(data, {**shown[0], **shown[1]}[key].get("path") or []) for key in differing
    )


def _below_null(data: Any, path: list[Any]) -> bool:
    """Whether a field at ``path`` is below one the data shows null."""
    found = data
    for step in path[:-1]:
        if found is None:
            return True
        try:
            found = found[step]
        except (KeyError, IndexError, TypeError):
            return False
    return found is None


_REVERSE = re.compile(
    r"\b(themes|territories|organizations|organizers)\b[^{]*\{[^{}]*"
    r"\b(resources|events)\b"
)


def _features(query: str) -> set[str]:
    """What of the compiler's coverage beyond plain lists a document uses (roughly)."""
    found = set()
    if re.search(r"\bnodes?\(ids?:", query):
        found.add("node")
    if "rejectionReason" in query:
        found.add("private")
    if "related" in query:
        found.add("related")
    found |= set(re.findall(r"\b(currentTheme|nextTheme)\b", query))
    if re.search(r"theme\(slug[^{]*\{[^}]*\b(resources|events)\b", query) or _REVERSE.search(query):
        found.add("reverse")
    return found


def _months_after(month: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months after ``month`` (before, if negative)."""
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def test_bodies_differ_only_in_the_errors_of_fields_below_a_null():
    first = "« first » doit être compris entre 0 et 20."
    last = "« last » doit être compris entre 0 et 100 (reçu : -1)."
    both = {
        "data": None,
        "errors": [
            {"message": first, "path": ["resource", "a22"]},
            {"message": last, "path": ["a32"]},
        ],
    }
    one = {"data": None, "errors": [{"message": last, "path": ["a32"]}]}
    assert _same(json.dumps(one), json.dumps(both))
    # Not the same data, or no error in common: different answers.
    assert not _same(json.dumps({"data": {"a32": None}, "errors": one["errors"]}), json.dumps(one))
    other = {"data": None, "errors": [{"message": first, "path": ["resource", "a22"]}]}
    assert not _same(json.dumps(one), json.dumps(other))
    # An error at a field whose parent the data shows is a different answer.
    data = {"resource": {"slug": "a"}, "a32": None}
    shown = {"data": data, "errors": [{"message": last, "path": ["a32"]}]}
    more = {
        "data": data,
        "errors": [*shown["errors"], {"message": first, "path": ["resource", "a22"]}],
    }
    assert not _same(json.dumps(shown), json.dumps(more))
