"""Connections, both ways: `last`/`before` pages over the same keyset as `first`/`after`,
`totalCount` is the size of the whole list, and bad page arguments are coded errors.

Backward paging is specified by forward paging: on every list, in every order, walking
from the end with `last`/`before` gives the rows of the forward walk, the same cursors and
the pageInfo Relay asks for; on seeded random resources (ties on the sort keys, drafts,
several filters) any window cut either way matches the slice of the forward walk.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from typing import Any

import pytest
from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLObjectType, get_named_type

from schema import build_schema
from schema.relay import to_global_id
from schema.strawberry_compat import graphql_core_schema
from services.content import Audience, ContentStatus
from services.resources.models import Resource, ResourceKind, ResourceTheme
from services.settings import Settings
from services.themes.models import Theme
from tests.sqlcount import count_queries

pytestmark = pytest.mark.heavy

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
# Whoever may read each root list; the admin for the others.
READERS = {"myContributions": "LOCAL_AUTHORITY"}
# How to reach objects that have connections of their own: the root list of their type.
PARENTS = {"Theme": "themes", "Organization": "organizations", "Territory": "territories"}


def _schema(settings):
    return graphql_core_schema(build_schema(settings))


def _is_connection(field) -> bool:
    named = get_named_type(field.type)
    return named.name.endswith("Connection") and "last" in field.args


def _orders(field) -> list[str | None]:
    """Every value of the field's `order` argument, and the default order."""
    argument = field.args.get("order")
    if argument is None:
        return [None]
    enum = get_named_type(argument.type)
    assert isinstance(enum, GraphQLEnumType)
    return [None, *enum.values]


class Lister:
    """Pages of one connection, from the root or, with ``parent`` (a global ID), through
    `node(id:)`; ``arguments`` and ``declarations`` add the list's own arguments."""

    def __init__(
        self,
        gql,
        headers,
        field: str,
        *,
        parent: tuple[str, str] | None = None,
        arguments: str = "",
        declarations: str = "",
        variables: dict[str, Any] | None = None,
    ):
        self.gql, self.headers, self.field, self.parent = gql, headers, field, parent
        paging = "first: $first, after: $after, last: $last, before: $before"
        body = f"{field}({paging}{arguments}) {{ totalCount edges {{ cursor }} {PAGE_INFO} }}"
        declared = "$first: Int, $after: String, $last: Int, $before: String" + declarations
        if parent is None:
            self.query = f"query({declared}) {{ {body} }}"
        else:
            self.query = (
                f"query($id: ID!, {declared}) {{ node(id: $id) {{ ... on {parent[0]} "
                f"{{ {body} }} }} }}"
            )
        self.variables = dict(variables or {})
        if parent is not None:
            self.variables["id"] = parent[1]

    async def page(self, **arguments: Any) -> dict[str, Any]:
        body = await self.gql(self.query, {**self.variables, **arguments}, self.headers)
        assert "errors" not in body, (self.field, arguments, body["errors"])
        data = body["data"]
        return data["node"][self.field] if self.parent is not None else data[self.field]


async def walk_forward(lister: Lister, size: int) -> list[str]:
    """Every cursor of the list, first to last, checking each page's pageInfo."""
    cursors: list[str] = []
    seen: set[str] = set()
    after = None
    while True:
        page = await lister.page(first=size, after=after)
        found = [e["cursor"] for e in page["edges"]]
        assert seen.isdisjoint(found), "the walk does not end: a cursor comes back"
        seen.update(found)
        info = page["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == (found[0] if found else None)
        assert info["endCursor"] == (found[-1] if found else None)
        assert len(found) <= size
        cursors += found
        if not info["hasNextPage"]:
            return cursors
        assert len(found) == size
        after = info["endCursor"]


async def walk_backward(lister: Lister, size: int) -> list[str]:
    """Every cursor of the list, read from the end with `last`/`before`, in list order."""
    pages: list[list[str]] = []
    seen: set[str] = set()
    before = None
    while True:
        page = await lister.page(last=size, before=before)
        found = [e["cursor"] for e in page["edges"]]
        assert seen.isdisjoint(found), "the walk does not end: a cursor comes back"
        seen.update(found)
        info = page["pageInfo"]
        assert info["hasNextPage"] is (before is not None)
        assert info["startCursor"] == (found[0] if found else None)
        assert info["endCursor"] == (found[-1] if found else None)
        pages.insert(0, found)
        if not info["hasPreviousPage"]:
            return [cursor for found in pages for cursor in found]
        assert len(found) == size
        before = info["startCursor"]


def _size(total: int) -> int:
    """A page size giving a handful of pages, the last one often partial."""
    return max(1, min(100, math.ceil(total / 4) + 1))


async def _check_both_ways(lister: Lister) -> None:
    total = (await lister.page(first=0))["totalCount"]
    size = _size(total)
    forward = await walk_forward(lister, size)
    assert len(forward) == len(set(forward)) == total
    assert await walk_backward(lister, size) == forward
    assert await walk_backward(lister, max(1, size - 1)) == forward


def _connections(type_: GraphQLObjectType) -> list[tuple[str, str | None]]:
    return [
        (name, order)
        for name, field in type_.fields.items()
        if _is_connection(field)
        for order in _orders(field)
    ]


SCHEMA = _schema(Settings())
# Root lists read on their own; one that needs an argument (a webhook endpoint's delivery
# log) is a child list in all but name, walked by its own tests.
ROOT_LISTS = [
    (name, order)
    for name, order in _connections(SCHEMA.query_type)
    if not any(
        isinstance(argument.type, GraphQLNonNull)
        for argument in SCHEMA.query_type.fields[name].args.values()
    )
]
CHILD_LISTS = [
    (type_.name, field, order)
    for type_ in SCHEMA.type_map.values()
    if isinstance(type_, GraphQLObjectType) and type_ is not SCHEMA.query_type
    for field, order in _connections(type_)
]


def test_the_lists_are_all_there():
    assert {field for field, _ in ROOT_LISTS} >= {"resources", "auditLog", "subscribers"}
    assert {parent for parent, _, _ in CHILD_LISTS} == set(PARENTS), "add it to PARENTS"


@pytest.mark.parametrize(("field", "order"), ROOT_LISTS, ids=[f"{f}-{o}" for f, o in ROOT_LISTS])
async def test_every_root_list_pages_backward_as_forward(gql, principals, field, order):
    headers = principals[READERS.get(field, "ADMIN")]
    arguments = f", order: {order}" if order else ""
    await _check_both_ways(Lister(gql, headers, field, arguments=arguments))


@pytest.mark.parametrize(
    ("parent", "field", "order"), CHILD_LISTS, ids=[f"{p}.{f}-{o}" for p, f, o in CHILD_LISTS]
)
async def test_every_child_list_pages_backward_as_forward(gql, principals, parent, field, order):
    headers = principals["ADMIN"]
    arguments = f", order: {order}" if order else ""
    root = PARENTS[parent]
    query = f"{{ {root}(first: 100) {{ nodes {{ id {field}(first: 0) {{ totalCount }} }} }} }}"
    parents = (await gql.data(query, headers=headers))[root]["nodes"]
    # The parents with the longest lists, and one with an empty list when there is one.
    parents.sort(key=lambda p: -p[field]["totalCount"])
    chosen = parents[:2] + [p for p in parents if p[field]["totalCount"] == 0][:1]
    assert chosen[0][field]["totalCount"] > 1
    for found in chosen:
        lister = Lister(gql, headers, field, parent=(parent, found["id"]), arguments=arguments)
        await _check_both_ways(lister)


# --- Seeded random resources: ties, drafts, filters; windows cut either way --------------

SEED = 20261202
RANDOM_RESOURCES = 60


@pytest.fixture(scope="module")
async def random_resources(database):
    """Resources with few distinct dates (ties on every date order), drafts and archived
    ones, random kinds, audiences and themes; removed after the module."""
    rng = random.Random(SEED)
    themes = [t.id for t in await Theme.filter(status=ContentStatus.PUBLISHED).limit(6)]
    dates = [dt.datetime(2020 + i % 4, 1 + i, 15, 9, 30, tzinfo=dt.UTC) for i in range(5)]
    statuses = [ContentStatus.PUBLISHED] * 4 + [ContentStatus.DRAFT, ContentStatus.ARCHIVED]
    tag = uuid.uuid4().hex[:8]
    made = []
    for i in range(RANDOM_RESOURCES):
        row = await Resource.create(
            slug=f"aleatoire-{tag}-{rng.choice('abc')}-{i:03d}",
            title=f"Ressource aléatoire {i}",
            kind=rng.choice(list(ResourceKind)),
            audience=rng.choice(list(Audience)),
            status=rng.choice(statuses),
            published_at=rng.choice([*dates, None]),
        )
        made.append(row.id)
        for theme in rng.sample(themes, rng.randint(0, 3)):
            await ResourceTheme.create(resource_id=row.id, theme_id=theme)
        # Updated at one of a few instants: ties on RECENTLY_UPDATED too.
        await Resource.filter(id=row.id).update(updated_at=rng.choice(dates))
    yield {"themes": themes}
    await Resource.filter(id__in=made).delete()


def _random_filters(rng: random.Random, themes: list[int]) -> list[dict[str, Any] | None]:
    kinds = [k.value for k in ResourceKind]
    return [
        None,
        {"kinds": rng.sample(kinds, 3)},
        {"themes": [to_global_id("Theme", t) for t in rng.sample(themes, 2)]},
        {"years": [2021, 2023], "audiences": [rng.choice([a.value for a in Audience])]},
        {"statuses": ["DRAFT", "ARCHIVED"]},
    ]


RESOURCE_ORDERS = [None, "NEWEST", "OLDEST", "TITLE", "RECENTLY_UPDATED"]


@pytest.mark.parametrize("who", ["ANONYMOUS", "EDITOR"])
@pytest.mark.parametrize("order", RESOURCE_ORDERS)
async def test_backward_pages_are_the_forward_walk_reversed(
    gql, principals, random_resources, who, order
):
    rng = random.Random(f"{SEED}-{who}-{order}")
    for flt in _random_filters(rng, random_resources["themes"]):
        lister = Lister(
            gql,
            principals[who],
            "resources",
            arguments=", filter: $filter" + (f", order: {order}" if order else ""),
            declarations=", $filter: ResourceFilter",
            variables={"filter": flt},
        )
        total = (await lister.page(first=0))["totalCount"]
        forward = await walk_forward(lister, rng.randint(1, 9))
        assert len(forward) == total, flt
        assert await walk_backward(lister, rng.randint(1, 9)) == forward, flt
        for _ in range(4):
            await _check_window(lister, forward, rng)


async def _check_window(lister: Lister, forward: list[str], rng: random.Random) -> None:
    """Pages around random cursors of the forward walk are its slices."""
    if not forward:
        assert (await lister.page(last=5))["edges"] == []
        return
    at = rng.randrange(len(forward))
    size = rng.randint(0, 8)
    cursor = forward[at]

    page = await lister.page(last=size, before=cursor)
    expected = forward[max(0, at - size) : at]
    assert [e["cursor"] for e in page["edges"]] == expected
    assert page["pageInfo"]["hasPreviousPage"] is (at - size > 0)
    assert page["pageInfo"]["hasNextPage"] is True

    page = await lister.page(first=size, after=cursor)
    assert [e["cursor"] for e in page["edges"]] == forward[at + 1 : at + 1 + size]
    assert page["pageInfo"]["hasNextPage"] is (at + 1 + size < len(forward))
    assert page["pageInfo"]["hasPreviousPage"] is True

    # Both cursors: the rows strictly between them, from either end.
    end = rng.randrange(at, len(forward))
    between = forward[at + 1 : end]
    page = await lister.page(first=size, after=cursor, before=forward[end])
    assert [e["cursor"] for e in page["edges"]] == between[:size]
    assert page["pageInfo"]["hasPreviousPage"] is page["pageInfo"]["hasNextPage"] is True
    page = await lister.page(last=size, after=cursor, before=forward[end])
    assert [e["cursor"] for e in page["edges"]] == between[max(0, len(between) - size) :]
    assert page["pageInfo"]["hasPreviousPage"] is page["pageInfo"]["hasNextPage"] is True


# --- totalCount ----------------------------------------------------------------------------


async def test_total_count_is_counted_only_when_selected_and_once_per_list(ordinary_gql):
    gql = ordinary_gql
    query = "{ resources(first: 3) { nodes { slug } } }"
    counted = "{ resources(first: 3) { totalCount nodes { slug } } }"
    twice = """{ a: resources(first: 3) { totalCount nodes { slug } }
                 b: resources(last: 2) { totalCount nodes { slug } } }"""
    await gql.data(twice)  # statements of first use (loaders, shapes) out of the way
    with count_queries() as plain:
        await gql.data(query)
    with count_queries() as with_count:
        data = await gql.data(counted)
    with count_queries() as both:
        aliased = await gql.data(twice)
    assert len(with_count) == len(plain) + 1
    assert sum("COUNT" in s.upper() for s in with_count) == 1
    # Two pages of the same list: two page statements, one count.
    assert len(both) == 2 * len(plain) + 1
    assert aliased["a"]["totalCount"] == aliased["b"]["totalCount"]
    assert data["resources"]["totalCount"] == aliased["a"]["totalCount"]


async def test_total_count_follows_the_filter_and_the_viewer(gql, principals, random_resources):
    query = """query($filter: ResourceFilter) { resources(first: 100, filter: $filter) {
        totalCount edges { cursor } } }"""
    for who in ("ANONYMOUS", "EDITOR"):
        for flt in (None, {"kinds": ["GUIDE"]}, {"statuses": ["DRAFT"]}):
            data = await gql.data(query, {"filter": flt}, headers=principals[who])
            found = data["resources"]
            assert found["totalCount"] == len(found["edges"]), (who, flt)
    drafts = await gql.data(query, {"filter": {"statuses": ["DRAFT"]}}, principals["EDITOR"])
    assert drafts["resources"]["totalCount"] > 0


async def test_a_child_list_counts_without_a_statement_of_its_own(gql):
    query = """{ themes(first: 100) { nodes { resources(first: 1) { %s nodes { slug } } } } }"""
    await gql.data(query % "totalCount")
    with count_queries() as plain:
        await gql.data(query % "")
    with count_queries() as counted:
        data = await gql.data(query % "totalCount")
    assert len(counted) == len(plain)
    assert any(t["resources"]["totalCount"] > 1 for t in data["themes"]["nodes"])


# --- Bad page arguments: coded errors, nothing read ---------------------------------------


async def _refusal(gql, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = await gql(query, variables)
    assert body["data"] is None or not any(body["data"].values()), body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    return error


@pytest.mark.parametrize(
    ("arguments", "field", "words"),
    [
        ("first: 2, last: 2", "last", "ensemble"),
        ("last: -1", "last", "-1"),
        ("first: -1", "first", "-1"),
        ("last: 101", "last", "100"),
        ('last: 2, before: "nimportequoi"', "before", "Curseur invalide"),
        ('first: 2, after: "nimportequoi"', "after", "Curseur invalide"),
    ],
)
async def test_bad_page_arguments_are_coded_errors(gql, arguments, field, words):
    error = await _refusal(gql, f"{{ resources({arguments}) {{ totalCount }} }}")
    assert error["extensions"]["field"] == field
    assert words in error["message"]


async def test_a_cursor_of_another_list_or_order_is_refused(gql):
    lists = await gql.data(
        """{ organizations(first: 1) { pageInfo { endCursor } }
             territories(first: 1) { pageInfo { endCursor } }
             resources(first: 1, order: TITLE) { pageInfo { endCursor } }
             themes(first: 1) { nodes { slug resources(first: 1, order: TITLE) {
               pageInfo { endCursor } } } } }"""
    )
    organization = lists["organizations"]["pageInfo"]["endCursor"]
    territory = lists["territories"]["pageInfo"]["endCursor"]
    resource = lists["resources"]["pageInfo"]["endCursor"]
    child = lists["themes"]["nodes"][0]["resources"]["pageInfo"]["endCursor"]
    # Both lists sort by name then id: only the list the cursor names tells them apart.
    for direction in ("after", "before"):
        size = "first" if direction == "after" else "last"
        query = f"query($c: String) {{ territories({size}: 2, {direction}: $c) {{ totalCount }} }}"
        assert (await _refusal(gql, query, {"c": organization}))["extensions"]["field"] == (
            direction
        )
        await gql.data(query, {"c": territory})
        query = f"""query($c: String) {{ resources({size}: 2, {direction}: $c, order: NEWEST) {{
            totalCount }} }}"""
        await _refusal(gql, query, {"c": resource})
        query = f"""query($c: String) {{ resources({size}: 2, {direction}: $c, order: TITLE) {{
            totalCount }} }}"""
        await _refusal(gql, query, {"c": child})
        await gql.data(query, {"c": resource})


async def test_counts_of_different_lists_in_one_request_are_their_own(gql):
    data = await gql.data(
        """query($games: ResourceFilter, $guides: ResourceFilter) {
          games: resources(first: 1, filter: $games) { totalCount }
          guides: resources(last: 1, filter: $guides) { totalCount }
          all: resources(first: 1) { totalCount }
          all: resources(first: 1) { nodes { slug } }
          titles: resources(first: 1, order: TITLE) { totalCount } }""",
        {"games": {"kinds": ["GAME"]}, "guides": {"kinds": ["GUIDE"]}},
    )
    separately = [
        (await gql.data(f"{{ resources(filter: {{kinds: [{kind}]}}) {{ totalCount }} }}"))[
            "resources"
        ]["totalCount"]
        for kind in ("GAME", "GUIDE")
    ]
    assert [data["games"]["totalCount"], data["guides"]["totalCount"]] == separately
    assert data["all"]["totalCount"] >= sum(separately) and data["all"]["nodes"]
    # TITLE keeps resources without a publication date that NEWEST leaves out.
    assert data["titles"]["totalCount"] >= data["all"]["totalCount"]


async def test_dates_written_with_other_offsets_page_both_ways(gql, principals):
    """Issues archived at Paris dates (as the demo's are, through an UPDATE): a cursor is
    read back in UTC, and must still find its own row among dates given with `+01:00` and
    `+02:00`."""
    from services.newsletters.models import IssueStatus, NewsletterIssue

    tag = uuid.uuid4().hex[:8]
    made = []
    for i, (month, hours) in enumerate([(6, 2), (7, 2), (9, 2), (11, 1), (12, 1), (12, 0)]):
        zone = dt.timezone(dt.timedelta(hours=hours))
        issue = await NewsletterIssue.create(
            slug=f"archive-{tag}-{i}", title=f"Numéro {i}", subject=f"Numéro {i}"
        )
        await NewsletterIssue.filter(id=issue.id).update(
            status=IssueStatus.SENT,
            frozen_html="<p>envoyé</p>",
            sent_at=dt.datetime(2021, month, 1, 14, tzinfo=zone),
        )
        made.append(issue)
    try:
        lister = Lister(gql, principals["ANONYMOUS"], "newsletterArchive")
        for size in (1, 2, 3):
            forward = await walk_forward(lister, size)
            assert await walk_backward(lister, size) == forward
            assert len(forward) == (await lister.page(first=0))["totalCount"]
    finally:
        for issue in made:
            await issue.delete()
