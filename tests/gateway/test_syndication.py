"""The RSS 2.0 and Atom feeds partner sites embed, read back with feedparser as feed
readers do, and checked against the database."""

from __future__ import annotations

import calendar
import datetime as dt
import email.utils

import feedparser
import pytest

from gateway.syndication import FEED_ENTRIES, TAG
from services.content import ContentStatus
from services.organizations.models import Organization
from services.resources import service as resources
from services.resources.models import (
    Resource,
    ResourceKind,
    ResourceOrganization,
    ResourceTheme,
)
from services.themes.models import Theme
from services.viewer import ANONYMOUS
from tests.sqlcount import count_queries
from tests.unique import unique_tag

THEME = "le-passage-a-l-action"
ORGANIZATION = "decider-ensemble"
CONTRIBUTOR = "icpc"

FEEDS = [
    "/resources",
    "/resources/guide",
    "/resources/news",
    "/resources/mooc",
    f"/themes/{THEME}/resources",
    f"/organizations/{ORGANIZATION}/resources",
    "/news",
]
FORMATS = {"rss": ("application/rss+xml", "rss20"), "atom": ("application/atom+xml", "atom10")}


@pytest.fixture
async def fresh():
    """A guide published as the fixture runs (on a theme, by an organisation, with a link
    of its own): the newest public resource, whatever other tests of this process
    published before; partner news without a link, published two minutes ago; a draft
    and a scheduled resource."""
    tag = unique_tag(10)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    theme = await Theme.get(slug=THEME)
    organization = await Organization.get(slug=ORGANIZATION)
    contributor = await Organization.get(slug=CONTRIBUTOR)
    guide = await Resource.create(
        slug=f"guide-{tag}",
        title=f"Guide de la concertation {tag}",
        summary="Les étapes d'une concertation réussie.",
        kind=ResourceKind.GUIDE,
        url=f"https://example.org/guides/{tag}",
        status=ContentStatus.PUBLISHED,
        published_at=dt.datetime.now(dt.UTC),
        contributor_organization=contributor,
    )
    news = await Resource.create(
        slug=f"actualite-{tag}",
        title=f"Actualité d'un partenaire {tag}",
        summary="",
        kind=ResourceKind.NEWS,
        status=ContentStatus.PUBLISHED,
        published_at=now - dt.timedelta(minutes=2),
    )
    draft = await Resource.create(
        slug=f"brouillon-{tag}",
        title=f"Brouillon secret {tag}",
        kind=ResourceKind.GUIDE,
        status=ContentStatus.DRAFT,
        published_at=now - dt.timedelta(seconds=30),
    )
    scheduled = await Resource.create(
        slug=f"programmee-{tag}",
        title=f"Ressource programmée {tag}",
        kind=ResourceKind.NEWS,
        status=ContentStatus.PUBLISHED,
        published_at=now + dt.timedelta(days=1),
    )
    for resource in (guide, draft, scheduled):
        await ResourceTheme.create(resource=resource, theme=theme)
        await ResourceOrganization.create(resource=resource, organization=organization)
    created = {"guide": guide, "news": news, "draft": draft, "scheduled": scheduled}
    try:
        yield created
    finally:
        for resource in created.values():
            await resource.delete()


async def _public(**conditions) -> list[Resource]:
    """What an anonymous reader sees, newest first, read straight from the database."""
    now = dt.datetime.now(dt.UTC)
    return (
        await Resource.filter(status=ContentStatus.PUBLISHED, published_at__lte=now, **conditions)
        .order_by("-published_at", "-id")
        .limit(FEED_ENTRIES)
    )


async def _parsed(client, path: str, **headers: str):
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


def _utc(struct) -> dt.datetime:
    return dt.datetime.fromtimestamp(calendar.timegm(struct), dt.UTC)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", FEEDS)
async def test_every_feed_is_a_well_formed_french_feed(client, fresh, path, fmt):
    response = await client.get(f"{path}.{fmt}")
    assert response.status_code == 200
    media_type, version = FORMATS[fmt]
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=300"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == version
    assert parsed.feed.language == "fr"
    assert parsed.feed.title.startswith("Territoires en Commun — ")
    assert parsed.feed.link.startswith("http")
    assert not parsed.feed.link.endswith(f".{fmt}")
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_links == [f"http://127.0.0.1:8000{path}.{fmt}"]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_entries_are_the_newest_public_resources_newest_first(client, fresh, fmt):
    parsed = await _parsed(client, f"/resources.{fmt}")
    expected = await _public()
    assert [e.title for e in parsed.entries] == [r.title for r in expected]
    assert [e.id for e in parsed.entries] == [f"{TAG}resource:{r.id}" for r in expected]
    published = [_utc(e.published_parsed) for e in parsed.entries]
    # Feeds write instants to the second; rows published by other tests keep microseconds.
    assert published == [r.published_at.astimezone(dt.UTC).replace(microsecond=0) for r in expected]
    assert published == sorted(published, reverse=True)
    links = [e.link for e in parsed.entries]
    assert links == [
        r.url or f"https://territoires-en-commun.fr/ressources/{r.slug}" for r in expected
    ]
    assert parsed.entries[0].title == fresh["guide"].title


@pytest.mark.parametrize("fmt", FORMATS)
async def test_an_entry_shows_summary_dates_themes_and_organisations(client, fresh, fmt):
    parsed = await _parsed(client, f"/resources.{fmt}")
    entries = {e.id: e for e in parsed.entries}
    guide = entries[f"{TAG}resource:{fresh['guide'].id}"]
    assert guide.link == fresh["guide"].url
    assert guide.summary == "Les étapes d'une concertation réussie."
    assert _utc(guide.published_parsed) == fresh["guide"].published_at.replace(microsecond=0)
    if fmt == "atom":  # RSS 2.0 has no update time of an item
        assert _utc(guide.updated_parsed) == fresh["guide"].updated_at.replace(microsecond=0)
    theme = await Theme.get(slug=THEME)
    assert [t.label if fmt == "atom" else t.term for t in guide.tags] == [theme.title]
    organization = await Organization.get(slug=ORGANIZATION)
    assert guide.author == organization.name
    if fmt == "atom":
        contributor = await Organization.get(slug=CONTRIBUTOR)
        assert [c.name for c in guide.contributors] == [contributor.name]
    news = entries[f"{TAG}resource:{fresh['news'].id}"]
    assert news.link == f"https://territoires-en-commun.fr/ressources/{fresh['news'].slug}"
    assert "tags" not in news


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", FEEDS)
async def test_drafts_and_scheduled_resources_never_appear(client, fresh, principals, path, fmt):
    for headers in ({}, principals["EDITOR"]):
        response = await client.get(f"{path}.{fmt}", headers=headers)
        assert response.status_code == 200
        titles = {e.title for e in feedparser.parse(response.content).entries}
        assert fresh["draft"].title not in titles
        assert fresh["scheduled"].title not in titles
        assert b"secret" not in response.content and "programmée".encode() not in response.content


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_theme_feed_holds_that_themes_resources(client, fresh, fmt):
    theme = await Theme.get(slug=THEME)
    parsed = await _parsed(client, f"/themes/{THEME}/resources.{fmt}")
    expected = await _public(theme_links__theme_id=theme.id)
    assert [e.id for e in parsed.entries] == [f"{TAG}resource:{r.id}" for r in expected]
    assert fresh["guide"].title in {e.title for e in parsed.entries}
    assert fresh["news"].title not in {e.title for e in parsed.entries}
    assert parsed.feed.title == f"Territoires en Commun — {theme.title}"
    assert parsed.feed.link == f"https://territoires-en-commun.fr/thematiques/{THEME}"


@pytest.mark.parametrize("fmt", FORMATS)
async def test_an_organisation_feed_holds_its_resources(client, fresh, fmt):
    organization = await Organization.get(slug=ORGANIZATION)
    parsed = await _parsed(client, f"/organizations/{ORGANIZATION}/resources.{fmt}")
    expected = await _public(organization_links__organization_id=organization.id)
    assert [e.id for e in parsed.entries] == [f"{TAG}resource:{r.id}" for r in expected]
    assert fresh["guide"].title in {e.title for e in parsed.entries}
    assert fresh["news"].title not in {e.title for e in parsed.entries}
    assert parsed.feed.title == f"Territoires en Commun — {organization.name}"
    assert parsed.feed.link == organization.website


@pytest.mark.parametrize("kind", list(ResourceKind))
async def test_a_kind_feed_holds_resources_of_that_kind(client, fresh, kind):
    parsed = await _parsed(client, f"/resources/{kind.value.lower()}.atom")
    expected = await _public(kind=kind)
    assert [e.id for e in parsed.entries] == [f"{TAG}resource:{r.id}" for r in expected]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_partner_news_are_the_news_resources(client, fresh, fmt):
    parsed = await _parsed(client, f"/news.{fmt}")
    expected = await _public(kind=ResourceKind.NEWS)
    assert expected, "the demo data has partner news"
    assert [e.id for e in parsed.entries] == [f"{TAG}resource:{r.id}" for r in expected]
    assert parsed.entries[0].title == fresh["news"].title


async def test_rss_and_atom_hold_the_same_entries(client, fresh):
    rss = await _parsed(client, "/resources.rss")
    atom = await _parsed(client, "/resources.atom")
    assert [(e.id, e.title, e.link) for e in rss.entries] == [
        (e.id, e.title, e.link) for e in atom.entries
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/resources/recette.rss",
        "/resources/GUIDE.atom",
        "/themes/no-such-theme/resources.rss",
        "/organizations/no-such-organisation/resources.atom",
    ],
)
async def test_unknown_themes_organisations_and_kinds_are_coded_404s(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "inconnu" in error["message"]


async def test_an_unknown_kind_names_the_known_ones(client):
    message = (await client.get("/resources/recette.rss")).json()["errors"][0]["message"]
    assert "guide" in message and "experience" in message


async def test_a_draft_theme_has_no_feed(client):
    theme = await Theme.create(
        slug=f"brouillon-{unique_tag(10)}",
        title="Thème en préparation",
        status=ContentStatus.DRAFT,
    )
    try:
        response = await client.get(f"/themes/{theme.slug}/resources.rss")
    finally:
        await theme.delete()
    assert response.status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
async def test_validators_answer_304_not_modified(client, fresh, fmt):
    path = f"/themes/{THEME}/resources.{fmt}"
    first = await client.get(path)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and etag.endswith('"')
    newest = max(
        max(fresh["guide"].updated_at, fresh["guide"].published_at),
        (await Theme.get(slug=THEME)).updated_at,
    )
    assert email.utils.parsedate_to_datetime(last_modified) == newest.replace(microsecond=0)

    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", W/{etag}'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": last_modified},
    ):
        cached = await client.get(path, headers=headers)
        assert cached.status_code == 304, headers
        assert cached.content == b""
        assert cached.headers["etag"] == etag
        assert cached.headers["last-modified"] == last_modified
        assert cached.headers["cache-control"] == "public, max-age=300"

    earlier = email.utils.format_datetime(
        email.utils.parsedate_to_datetime(last_modified) - dt.timedelta(seconds=1), usegmt=True
    )
    for headers in (
        {"If-None-Match": '"other"'},
        {"If-Modified-Since": earlier},
        {"If-Modified-Since": "not a date"},
        # If-None-Match decides when both are sent.
        {"If-None-Match": '"other"', "If-Modified-Since": last_modified},
    ):
        fresh_copy = await client.get(path, headers=headers)
        assert fresh_copy.status_code == 200, headers
        assert fresh_copy.content == first.content


async def test_a_change_to_an_entry_changes_the_validators(client, fresh):
    first = await client.get("/resources.atom")
    guide = fresh["guide"]
    guide.title = f"{guide.title} (mise à jour)"
    await guide.save()
    second = await client.get("/resources.atom", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    assert second.headers["etag"] != first.headers["etag"]
    assert email.utils.parsedate_to_datetime(
        second.headers["last-modified"]
    ) >= email.utils.parsedate_to_datetime(first.headers["last-modified"])
    assert guide.title in {e.title for e in feedparser.parse(second.content).entries}


async def test_the_same_content_gives_the_same_document(client, fresh):
    first = await client.get("/news.rss")
    second = await client.get("/news.rss")
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]


@pytest.mark.parametrize("path", ["/resources.rss", "/news.atom", "/resources/guide.rss"])
async def test_head_answers_the_headers_of_get(client, fresh, path):
    got = await client.get(path)
    head = await client.head(path)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "etag", "last-modified", "cache-control"):
        assert head.headers[name] == got.headers[name]
    assert head.headers["content-length"] == str(len(got.content))
    cached = await client.head(path, headers={"If-None-Match": got.headers["etag"]})
    assert cached.status_code == 304


async def test_an_empty_feed_is_still_a_feed(client):
    assert await _public(kind=ResourceKind.MOOC) == []
    parsed = await _parsed(client, "/resources/mooc.rss")
    assert parsed.entries == []


async def test_a_feed_holds_a_bounded_number_of_entries(fresh):
    rows = await resources.list_feed_resources(ANONYMOUS, limit=2)
    # The newest two, whichever other tests of this process published meanwhile.
    assert [r.id for r in rows] == [r.id for r in (await _public())[:2]]


async def test_a_feed_costs_the_same_few_statements_whatever_its_length(client, fresh):
    # The resources, their themes, their organisations, the contributing organisations;
    # a theme's feed looks the theme up first.
    with count_queries() as statements:
        await client.get("/resources.atom")
    assert len(statements) == 4, statements
    with count_queries() as statements:
        await client.get(f"/themes/{THEME}/resources.rss")
    assert len(statements) == 5, statements


def test_the_readme_lists_every_kind_and_the_bound(repo_root):
    text = (repo_root / "README.md").read_text("utf-8")
    assert f"the {FEED_ENTRIES} most recently published first" in text
    missing = [k.value.lower() for k in ResourceKind if f"`{k.value.lower()}`" not in text]
    assert not missing, f"list these kinds of feeds in the README: {missing}"
