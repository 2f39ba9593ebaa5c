"""The public response cache: what is cached, for whom, and when it stops being valid."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from gateway.app import create_app
from gateway.cache import analyse
from services.audit.service import record
from services.content import ContentStatus
from services.organizations.models import Organization
from services.resources.models import Resource
from tests.clock import FakeClock
from tests.sqlcount import count_queries

PORTAL = """query Portal($first: Int!) {
  resources(first: $first) { edges { node { id title organizations { name } themes { title } } } }
  events(first: 10) { edges { node { id title startsAt city } } }
}"""


async def _post(client, query, variables=None, headers=None):
    return await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )


def _analyse(query: str, operation_name: str | None):
    from graphql import parse

    from schema import build_schema
    from schema.caching import cacheable_root_fields
    from schema.directives import viewer_dependent_fields

    schema = build_schema()
    return analyse(
        parse(query),
        operation_name,
        cacheable_roots=cacheable_root_fields(schema),
        viewer_dependent=viewer_dependent_fields(schema),
    )


def test_only_public_read_only_documents_are_cacheable():
    assert _analyse("{ resources { nodes { title } } }", None).cacheable
    assert _analyse("query A { themes { nodes { title } } } query B { me { email } }", "A")
    assert not _analyse("query A { themes { nodes { id } } } query B { me { id } }", "B").cacheable
    assert not _analyse("mutation { signOut }", None).cacheable
    assert _analyse('{ search(query: "budget") { total } }', None).cacheable
    assert not _analyse("{ moderationQueue { nodes { id } } }", None).cacheable
    fragment = "fragment F on Query { auditLog { nodes { action } } } { ...F }"
    assert not _analyse(fragment, None).cacheable
    private = _analyse("{ resources { nodes { ... on Resource { rejectionReason } } } }", None)
    assert private.cacheable and private.viewer_dependent


async def test_a_second_identical_query_is_answered_from_the_cache(cc):
    first = await _post(cc, PORTAL, {"first": 5})
    second = await _post(cc, PORTAL, {"first": 5})
    assert first.status_code == second.status_code == 200
    assert first.headers["x-tec-cache"] == "miss"
    assert second.headers["x-tec-cache"] == "hit"
    assert first.content == second.content
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["cache-control"] == "public, max-age=0, must-revalidate"
    other = await _post(cc, PORTAL, {"first": 6})  # other variables, other entry
    assert other.headers["x-tec-cache"] == "miss"


async def test_portal_query_statements_are_few_and_constant(cc):
    await _post(cc, PORTAL, {"first": 3})
    with count_queries() as small:
        await _post(cc, PORTAL, {"first": 4})
    with count_queries() as large:
        await _post(cc, PORTAL, {"first": 40})
    with count_queries() as hit:
        await _post(cc, PORTAL, {"first": 40})
    # content version, resources, their themes, their organisations, events
    assert len(small) == len(large) <= 6, large
    assert len(hit) == 1, hit  # the content version only


async def test_get_queries_revalidate_with_etag_and_304(cc):
    params = {"query": PORTAL, "variables": json.dumps({"first": 2})}
    first = await cc.get("/graphql", params=params)
    assert first.status_code == 200 and "etag" in first.headers
    again = await cc.get(
        "/graphql", params=params, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    stale = await cc.get("/graphql", params=params, headers={"If-None-Match": '"autre"'})
    assert stale.status_code == 200


async def test_a_committed_write_is_visible_on_the_next_request(cc, principals):
    query = '{ organization(slug: "icpc") { name description } }'
    before = (await _post(cc, query)).json()["data"]["organization"]
    assert (await _post(cc, query)).headers["x-tec-cache"] == "hit"
    org = await Organization.get(slug="icpc")
    changed = await _post(
        cc,
        "mutation($id: ID!, $d: String!) { updateOrganization(id: $id, input: {description: $d})"
        " { organization { description } errors { code } } }",
        {"id": _gid("Organization", org.id), "d": "Description changée par le test du cache"},
        headers=principals["EDITOR"],
    )
    assert "errors" not in changed.json(), changed.json()
    assert changed.json()["data"]["updateOrganization"]["errors"] == []
    after = await _post(cc, query)
    assert after.headers["x-tec-cache"] == "miss"
    assert after.json()["data"]["organization"]["description"] == (
        "Description changée par le test du cache"
    )
    assert after.json()["data"]["organization"]["name"] == before["name"]


async def test_total_count_is_cached_with_its_page_and_follows_every_write(cc):
    query = """{ resources(first: 2, filter: {kinds: [GAME]}) { totalCount nodes { slug } }
                 backward: resources(last: 1, filter: {kinds: [GAME]}) { totalCount } }"""
    first = await _post(cc, query)
    count = first.json()["data"]["resources"]["totalCount"]
    with count_queries() as hit:
        again = await _post(cc, query)
    assert again.headers["x-tec-cache"] == "hit" and again.content == first.content
    assert len(hit) == 1  # the content version: no page, no count
    row = await Resource.create(
        slug="jeu-compte-cache",
        title="Jeu compté",
        kind="GAME",
        status=ContentStatus.PUBLISHED,
        published_at=dt.datetime(2022, 5, 1, tzinfo=dt.UTC),
    )
    await record(None, "resource.publish", row)  # as every write does
    try:
        after = await _post(cc, query)
        assert after.headers["x-tec-cache"] == "miss"
        data = after.json()["data"]
        assert data["resources"]["totalCount"] == data["backward"]["totalCount"] == count + 1
    finally:
        await row.delete()
        await record(None, "resource.delete", row)
    assert (await _post(cc, query)).json()["data"]["resources"]["totalCount"] == count


async def test_a_scheduled_publication_ends_the_entries_when_its_time_comes(database):
    clock = FakeClock()
    # Entries that would live two hours, shared caches told ten minutes: the publication,
    # in one hour, ends both first.
    settings = database.replace(
        **{
            "rate_limit_anonymous": 1_000_000,
            "cache_enabled": True,
            "cache_ttl": 7200,
            "cache_max_age": 600,
        }
    )
    app = create_app(settings, clock=clock)
    query = "{ resources(first: 3, filter: {kinds: [GAME]}) { nodes { slug } } }"
    at = clock() + dt.timedelta(hours=1)
    row = await Resource.create(
        slug="jeu-programme-cache",
        title="Jeu programmé",
        kind="GAME",
        status=ContentStatus.PUBLISHED,
        published_at=at,
    )
    await record(None, "resource.publish", row)  # as every write does
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as cc:
            first = await _post(cc, query)
            assert "jeu-programme-cache" not in _slugs(first)
            clock.advance(hours=1, seconds=-1)
            before = await _post(cc, query)
            assert before.headers["x-tec-cache"] == "hit"
            assert before.headers["cache-control"] == "public, max-age=1"
            # The publication time comes, with no write: the database reaches it too (reads
            # compare it with the machine's time, which this test does not move).
            clock.advance(seconds=1)
            await Resource.filter(id=row.id).update(published_at=dt.datetime.now(dt.UTC))
            later = await _post(cc, query)
        assert later.headers["x-tec-cache"] == "miss"
        assert "jeu-programme-cache" in _slugs(later)
    finally:
        await row.delete()
        await record(None, "resource.delete", row)


def _slugs(response: httpx.Response) -> list[str]:
    return [n["slug"] for n in response.json()["data"]["resources"]["nodes"]]


async def test_signed_in_people_and_writes_bypass_the_cache(cc, principals):
    query = "{ themes(first: 2) { nodes { slug status } } }"
    for _ in range(2):
        answer = await _post(cc, query, headers=principals["EDITOR"])
        assert "x-tec-cache" not in answer.headers
    contribute = await _post(cc, query, headers=principals["PARTNER_KEY_CONTRIBUTE"])
    assert "x-tec-cache" not in contribute.headers
    errors = await _post(cc, "{ resource(slug: 12) { title } }")
    assert "x-tec-cache" not in errors.headers or errors.headers["x-tec-cache"] == "miss"
    assert (await _post(cc, "{ resource(slug: 12) { title } }")).headers.get("x-tec-cache") != "hit"


async def test_read_only_keys_share_public_entries_but_not_private_fields(cc, principals):
    query = "{ concepts(first: 2) { nodes { slug title } } }"
    await _post(cc, query)
    shared = await _post(cc, query, headers=principals["PARTNER_KEY_READ"])
    assert shared.headers["x-tec-cache"] == "hit"
    private = "{ resources(first: 2) { nodes { slug rejectionReason } } }"
    await _post(cc, private)
    own = await _post(cc, private, headers=principals["PARTNER_KEY_READ"])
    assert own.headers["x-tec-cache"] == "miss"  # its own entry, never the anonymous one
    assert own.headers["cache-control"] == "private, no-store"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_answers_for_signed_in_people_are_private_and_never_stored(cc, principals, method):
    query = "{ me { displayName email } }"
    if method == "GET":
        answer = await cc.get("/graphql", params={"query": query}, headers=principals["EDITOR"])
    else:
        answer = await _post(cc, query, headers=principals["EDITOR"])
    assert answer.json()["data"]["me"]["email"] == "editor@principals.test"
    assert answer.headers["cache-control"] == "private, no-store"
    assert "x-tec-cache" not in answer.headers


async def test_mutations_are_never_cached(cc, principals):
    org = await Organization.get(slug="icpc")
    mutation = """mutation($id: ID!) { updateOrganization(id: $id, input: {acronym: "ICPC"}) {
        organization { id } } }"""
    for _ in range(2):
        answer = await _post(
            cc, mutation, {"id": _gid("Organization", org.id)}, headers=principals["EDITOR"]
        )
        assert "x-tec-cache" not in answer.headers


async def test_the_cache_can_be_turned_off(database):
    app = create_app(database.replace(**{"cache_enabled": False}))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as c:
        for _ in range(2):
            answer = await _post(c, PORTAL, {"first": 2})
            assert answer.status_code == 200
            assert "x-tec-cache" not in answer.headers


def _gid(type_name: str, pk: int) -> str:
    from schema.relay import to_global_id

    return to_global_id(type_name, pk)
