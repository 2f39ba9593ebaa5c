"""A write drops the cached answers it can change, and keeps the others: each entry
records the content types its selection reads, and each write says which it changes."""

from __future__ import annotations

import httpx
import pytest
from graphql import parse

from schema import build_schema
from schema.caching import ANY, INDEX, ReadSets
from services.audit.version import tags_of_write
from services.events.models import EventOrganizer
from services.organizations.models import Organization
from services.resources.models import Resource, ResourceTheme
from services.themes.models import Theme

EVENTS = "{ events(first: 50) { totalCount nodes { slug title startsAt city } } }"
EVENTS_WITH_ORGANIZERS = "{ events(first: 50) { nodes { slug organizers { name description } } } }"
UPDATE_ORGANIZATION = """mutation($id: ID!, $d: String!) {
  updateOrganization(id: $id, input: {description: $d}) { errors { code } } }"""
UPDATE_RESOURCE = """mutation($id: ID!, $v: Int!, $t: String!) {
  updateResource(id: $id, version: $v, input: {title: $t}) { errors { code } } }"""


@pytest.fixture(scope="module")
def read_sets() -> ReadSets:
    return ReadSets(build_schema())


def _reads(read_sets: ReadSets, query: str) -> set[str]:
    return set(read_sets.of(parse(query), None))


def test_an_answer_reads_the_content_types_whose_fields_its_selection_resolves(read_sets):
    assert _reads(read_sets, EVENTS) == {"Event"}
    assert _reads(read_sets, EVENTS_WITH_ORGANIZERS) == {"Event", "Organization"}
    # A count or a page reads the rows of the list it belongs to.
    assert _reads(read_sets, "{ events { totalCount pageInfo { hasNextPage } } }") == {"Event"}
    theme_page = '{ theme(slug: "x") { title resources { nodes { title } } } }'
    assert _reads(read_sets, theme_page) == {"Theme", "Resource"}
    fragment = "fragment R on Resource { themes { slug } } { resources { nodes { ...R } } }"
    assert _reads(read_sets, fragment) == {"Resource", "Theme"}
    # The parts of a content type are read as that type (a project's news, a round's
    # ranking), with the content types they list (the themes ranked).
    ranking = '{ votingRound(slug: "x") { ranking { votes } } }'
    assert _reads(read_sets, ranking) == {"VotingRound", "Theme"}
    news = '{ sharedProject(slug: "x") { news { title } } }'
    assert _reads(read_sets, news) == {"SharedProject"}


def test_an_interface_reads_every_type_behind_it_and_search_reads_its_index(read_sets):
    node = _reads(read_sets, '{ node(id: "x") { id } }')
    assert {"Resource", "Event", "Organization", "Theme", "VotingRound"} <= node
    search = _reads(read_sets, '{ search(query: "x") { total } }')
    assert INDEX in search and "Resource" in search
    assert _reads(read_sets, '{ searchSuggestions(query: "x") { title } }') == {INDEX}
    assert _reads(read_sets, "{ __typename __schema { queryType { name } } }") == set()
    assert ANY not in node | search


def test_a_root_lookup_by_slug_reads_one_object_and_what_it_selects_around_it(read_sets):
    from schema.caching import Lookup

    page = "query($s: String!) { resource(slug: $s) { title themes { title } } }"
    reads = read_sets.reads(parse(page), None)
    assert reads.lookups == (Lookup("Resource", variable="s"),)
    assert reads.tags == {Lookup("Resource", variable="s").tag, "Theme"}
    # Related resources are other rows of the type: all of them are read.
    related = read_sets.reads(parse('{ resource(slug: "x") { related { slug } } }'), None)
    assert related.tags == {Lookup("Resource", slug="x").tag, "Resource"}
    # Counted as its whole type where the objects are not known.
    assert _reads(read_sets, page) == {"Resource", "Theme"}


def test_what_a_public_root_returns_outside_content_types_only_wraps_them():
    """A type around content (a connection, an edge, a page) reads what it lists. Another
    type returned by a public root field outside any node (say, counts per theme) would be
    read as the content types it lists, not as what it counts: a new one must come with a
    decision. Nodes that are no content type hold rows of models whose writes drop every
    entry."""
    from graphql import GraphQLObjectType, get_named_type, is_abstract_type

    from schema.caching import cacheable_root_fields
    from schema.strawberry_compat import graphql_core_schema
    from services import registry

    schema = build_schema()
    core = graphql_core_schema(schema)
    index_roots = {"search", "searchSuggestions"}
    outside: set[str] = set()
    for name in cacheable_root_fields(schema) - {"__typename", "__schema", "__type"}:
        stack = [get_named_type(core.query_type.fields[name].type)]
        seen: set[str] = set()
        while stack:
            type_ = stack.pop()
            if type_.name in seen:
                continue
            seen.add(type_.name)
            if is_abstract_type(type_):
                stack.extend(core.get_possible_types(type_))
            elif isinstance(type_, GraphQLObjectType):
                if registry.content_type(type_.name) is not None or "Node" in {
                    i.name for i in type_.interfaces
                }:
                    continue
                if name not in index_roots:
                    outside.add(type_.name)
                stack.extend(get_named_type(f.type) for f in type_.fields.values())
    wrappers = {n for n in outside if n.endswith(("Connection", "Edge")) or n == "PageInfo"}
    assert outside == wrappers


def test_a_write_changes_its_own_type_the_type_it_is_part_of_and_what_it_touches():
    assert tags_of_write("Organization", "organization.update") == {"Organization"}
    assert tags_of_write("Resource", "resource.publish") == {"Resource"}
    assert tags_of_write("Vote", "vote.cast") == {"VotingRound", "Theme", "SharedProject"}
    assert tags_of_write("ProjectNews", "project.news") == {"SharedProject", "Membership"}
    # A deletion cascades in the database, and a model of no content type says nothing of
    # what it changes: any answer may change.
    assert tags_of_write("Organization", "organization.delete") is None
    assert tags_of_write("Account", "account.create") is None


async def _post(client, query, variables=None, headers=None):
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.json()
    return response


async def _warm(client, query: str) -> httpx.Response:
    await _post(client, query)
    warm = await _post(client, query)
    assert warm.headers["x-tec-cache"] == "hit"
    return warm


def _gid(type_name: str, pk: int) -> str:
    from schema.relay import to_global_id

    return to_global_id(type_name, pk)


async def test_editing_an_organisation_keeps_a_cached_event_list(cc, cached_app, principals):
    link = await EventOrganizer.all().order_by("id").first()
    assert link is not None, "the demo data has organised events"
    organization = await Organization.get(id=link.organization_id)  # type: ignore[attr-defined]
    events = await _warm(cc, EVENTS)
    organized = await _warm(cc, EVENTS_WITH_ORGANIZERS)
    hits = cached_app.state.cache.hits

    text = "Description écrite pendant que la liste des événements est en cache"
    written = await _post(
        cc,
        UPDATE_ORGANIZATION,
        {"id": _gid("Organization", organization.id), "d": text},
        headers=principals["EDITOR"],
    )
    assert written.json()["data"]["updateOrganization"]["errors"] == []
    try:
        kept = await _post(cc, EVENTS)
        assert kept.headers["x-tec-cache"] == "hit"
        assert kept.content == events.content
        assert cached_app.state.cache.hits == hits + 1
        # The list that shows organisers is dropped, and shows the new text at once.
        dropped = await _post(cc, EVENTS_WITH_ORGANIZERS)
        assert dropped.headers["x-tec-cache"] == "miss"
        assert dropped.content != organized.content
        assert text in dropped.text
    finally:
        await _post(
            cc,
            UPDATE_ORGANIZATION,
            {"id": _gid("Organization", organization.id), "d": organization.description},
            headers=principals["EDITOR"],
        )


async def test_editing_a_resource_drops_cached_resource_lists_and_theme_pages(cc, principals):
    link = await ResourceTheme.filter(resource__status="PUBLISHED").order_by("id").first()
    assert link is not None
    resource = await Resource.get(id=link.resource_id)  # type: ignore[attr-defined]
    theme = await Theme.get(id=link.theme_id)  # type: ignore[attr-defined]
    resources = f"""{{ resources(first: 100, filter: {{themes: ["{_gid("Theme", theme.id)}"]}})
                      {{ nodes {{ slug title }} }} }}"""
    theme_page = f"""{{ theme(slug: "{theme.slug}") {{ title
                       resources(first: 100) {{ totalCount nodes {{ slug title }} }} }} }}"""
    theme_titles = "{ themes(first: 100) { nodes { slug title } } }"
    for query in (resources, theme_page, theme_titles):
        await _warm(cc, query)

    title = f"{resource.title} (modifié pendant le test du cache)"
    written = await _post(
        cc,
        UPDATE_RESOURCE,
        {"id": _gid("Resource", resource.id), "v": resource.version, "t": title},
        headers=principals["EDITOR"],
    )
    assert written.json()["data"]["updateResource"]["errors"] == []
    try:
        for query in (resources, theme_page):
            dropped = await _post(cc, query)
            assert dropped.headers["x-tec-cache"] == "miss"
            assert title in dropped.json()["data"].__repr__()
        # Theme titles read no resource: their entry stays.
        assert (await _post(cc, theme_titles)).headers["x-tec-cache"] == "hit"
    finally:
        await _post(
            cc,
            UPDATE_RESOURCE,
            {"id": _gid("Resource", resource.id), "v": resource.version + 1, "t": resource.title},
            headers=principals["EDITOR"],
        )


async def test_a_write_that_commits_below_the_head_is_still_seen(database):
    """PostgreSQL hands out audit ids at insert time: a transaction may commit after one
    that took a higher id. The count of recent rows in the content version shows it."""
    from gateway.cache import _Changes
    from services.audit.models import AuditEntry
    from services.audit.version import get_content_version

    changes = _Changes()
    await changes.observe(await get_content_version())
    top = (await get_content_version())[0]
    organization = await Organization.all().order_by("id").first()
    assert organization is not None
    entry = {"actor_role": "SYSTEM", "entity_id": organization.id, "changes": {}}
    later = await AuditEntry.create(id=top + 5, action="theme.update", entity_type="Theme", **entry)
    late = None
    try:
        moved = await changes.observe(await get_content_version())
        assert moved is not None and "Theme" in moved and "Organization" not in moved
        before = changes.stamp(("Organization", "Theme"))
        late = await AuditEntry.create(
            id=top + 2, action="organization.update", entity_type="Organization", **entry
        )
        moved = await changes.observe(await get_content_version())
        assert moved is not None and "Organization" in moved and "Theme" not in moved
        assert changes.stamp(("Organization", "Theme")) == (before[0] + 1, before[1])
    finally:
        await later.delete()
        if late is not None:
            await late.delete()


async def test_a_lookup_by_slug_reads_its_object_and_a_missing_one_reads_its_type(cc, principals):
    """A page of one organisation is dropped by a write to that organisation, not by a
    write to another; a lookup that found nothing is dropped by any write to the type,
    since any row may take the slug."""
    first, second = await Organization.all().order_by("id").limit(2)
    page = "query($s: String!) { organization(slug: $s) { slug name description } }"
    own, other = {"s": first.slug}, {"s": second.slug}
    missing = {"s": f"{first.slug}-nouveau"}
    for variables in (own, other, missing):
        await _post(cc, page, variables)
        assert (await _post(cc, page, variables)).headers["x-tec-cache"] == "hit"

    update = """mutation($id: ID!, $s: String!) {
      updateOrganization(id: $id, input: {slug: $s}) { errors { code } } }"""
    moved = await _post(
        cc,
        update,
        {"id": _gid("Organization", first.id), "s": missing["s"]},
        headers=principals["EDITOR"],
    )
    assert moved.json()["data"]["updateOrganization"]["errors"] == []
    try:
        assert (await _post(cc, page, other)).headers["x-tec-cache"] == "hit"
        gone = await _post(cc, page, own)
        assert gone.headers["x-tec-cache"] == "miss"
        assert gone.json()["data"]["organization"] is None
        found = await _post(cc, page, missing)
        assert found.headers["x-tec-cache"] == "miss"
        assert found.json()["data"]["organization"]["name"] == first.name
    finally:
        await _post(
            cc,
            update,
            {"id": _gid("Organization", first.id), "s": first.slug},
            headers=principals["EDITOR"],
        )
