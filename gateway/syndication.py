"""RSS 2.0 and Atom feeds of the published resources, for partner sites (WordPress,
Drupal) and feed readers: all resources, one theme's, one organisation's, one kind's, and
the partner news.

Feeds are public documents that shared caches keep: they hold what an anonymous reader
sees (published, publication time reached), whoever asks. Each answer carries an ``ETag``
(a digest of the document, so it changes exactly when the document does) and a
``Last-Modified`` (the newest change among the entries, their themes and organisations),
and a matching ``If-None-Match`` or ``If-Modified-Since`` is answered ``304 Not Modified``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from feedgen.feed import FeedGenerator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http import error_response
from mailer.links import page_url, portal_url
from services.labels import label
from services.organizations import service as organizations
from services.organizations.models import Organization
from services.resources import service as resources
from services.resources.models import Resource, ResourceKind
from services.settings import Settings
from services.themes import service as themes
from services.themes.models import Theme
from services.viewer import ANONYMOUS

FEED_ENTRIES = 50
"""Entries of one feed: the newest resources; older ones are in the GraphQL API."""

SITE = "Territoires en Commun"
# Identifiers independent of the address the gateway is served at (RFC 4151).
TAG = "tag:territoires-en-commun.fr,2024:"
CACHE_CONTROL = "public, max-age=300"
MEDIA_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def resource_link(settings: Settings, resource: Resource) -> str:
    """Where an entry leads: the resource's own address, else its page on the portal."""
    return (
        resource.url or page_url(settings, "Resource", resource.slug) or portal_url(settings, "/")
    )


@dataclass(frozen=True)
class Subject:
    """What one feed is about, and the resources it holds."""

    path: str
    """Address of the feed without its ``.rss`` or ``.atom`` extension."""
    title: str
    description: str
    link: str
    """The page of the site the feed stands for."""
    updated_at: dt.datetime | None = None
    theme_id: int | None = None
    organization_id: int | None = None
    kind: ResourceKind | None = None


class UnknownSubject(Exception):
    """The theme, organisation or kind named in the address does not exist (404)."""


@dataclass(frozen=True)
class Entries:
    """The resources of a feed with what their entries show."""

    resources: Sequence[Resource]
    themes: dict[int, list[Theme]]
    organizations: dict[int, list[Organization]]
    contributors: dict[int, Organization]

    def last_modified(self, subject: Subject) -> dt.datetime:
        """The newest change the feed shows: an entry's update or publication, one of its
        themes or organisations, the feed's own theme or organisation."""
        times = [_entry_updated(r) for r in self.resources]
        times += [t.updated_at for found in self.themes.values() for t in found]
        times += [o.updated_at for found in self.organizations.values() for o in found]
        times += [o.updated_at for o in self.contributors.values()]
        if subject.updated_at is not None:
            times.append(subject.updated_at)
        return max(times, default=_EPOCH).astimezone(dt.UTC)


def _entry_updated(resource: Resource) -> dt.datetime:
    # A resource scheduled for later appears at its publication time, after its last edit.
    times = [resource.updated_at]
    if resource.published_at is not None:
        times.append(resource.published_at)
    return max(times)


async def load_entries(subject: Subject, *, limit: int = FEED_ENTRIES) -> Entries:
    """The newest public resources of ``subject`` with their themes and organisations
    (four statements at most, whatever the number of entries)."""
    rows = await resources.list_feed_resources(
        ANONYMOUS,
        theme_id=subject.theme_id,
        organization_id=subject.organization_id,
        kind=subject.kind,
        limit=limit,
    )
    ids = [r.id for r in rows]
    contributor_ids = sorted({i for i in map(_contributor_id, rows) if i is not None})
    return Entries(
        resources=rows,
        themes=await resources.get_themes_by_resource_ids(ANONYMOUS, ids) if ids else {},
        organizations=await resources.get_organizations_by_resource_ids(ids) if ids else {},
        contributors=(
            await organizations.get_organizations_by_ids(contributor_ids) if contributor_ids else {}
        ),
    )


def render_feed(settings: Settings, subject: Subject, entries: Entries, *, fmt: str) -> bytes:
    """The RSS 2.0 (``fmt="rss"``) or Atom (``"atom"``) document of ``entries``; the same
    data gives the same bytes."""
    updated = entries.last_modified(subject)
    feed = FeedGenerator()
    feed.load_extension("dc", atom=False, rss=True)
    feed.id(f"{TAG}feed:{subject.path.lstrip('/')}")
    feed.title(subject.title)
    feed.subtitle(subject.description)
    feed.language("fr")
    feed.author(name=SITE, uri=portal_url(settings, "/"))
    # feedgen gives RSS's one channel link the address of the last link added.
    feed.link(href=f"{settings.http.base_url}{subject.path}.{fmt}", rel="self")
    feed.link(href=subject.link, rel="alternate")
    feed.updated(updated)
    feed.lastBuildDate(updated)
    for resource in entries.resources:
        _add_entry(feed, settings, resource, entries)
    return feed.rss_str() if fmt == "rss" else feed.atom_str()


def _add_entry(
    feed: FeedGenerator, settings: Settings, resource: Resource, entries: Entries
) -> None:
    entry = feed.add_entry(order="append")
    entry.id(f"{TAG}resource:{resource.id}")
    entry.title(resource.title)
    entry.link(href=resource_link(settings, resource), rel="alternate")
    if resource.summary:
        entry.summary(resource.summary)
    if resource.published_at is not None:
        entry.published(resource.published_at)
    entry.updated(_entry_updated(resource))
    for theme in entries.themes.get(resource.id, []):
        entry.category(term=theme.slug, label=theme.title)
    authors = entries.organizations.get(resource.id, [])
    for organization in authors:
        entry.author(_person(organization))
        entry.dc.dc_creator(organization.name)
    contributor_id = _contributor_id(resource)
    contributor = None if contributor_id is None else entries.contributors.get(contributor_id)
    if contributor is not None:
        entry.contributor(_person(contributor))
        entry.dc.dc_contributor(contributor.name)


def _contributor_id(resource: Resource) -> int | None:
    """The organisation credited for contributing ``resource``, if any."""
    return resource.contributor_organization_id  # type: ignore[attr-defined,no-any-return]


def _person(organization: Organization) -> dict[str, str]:
    person = {"name": organization.name}
    if organization.website:
        person["uri"] = organization.website
    return person


# --- Conditional requests (RFC 9110, section 13) -------------------------------------------


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _http_date(value: dt.datetime) -> str:
    return email.utils.format_datetime(value.astimezone(dt.UTC), usegmt=True)


def is_not_modified(request: Request, *, etag: str, last_modified: dt.datetime) -> bool:
    """Whether the client's copy is current: ``If-None-Match`` decides when it is sent
    (weak comparison), ``If-Modified-Since`` otherwise."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = email.utils.parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as the RFC says
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return last_modified.replace(microsecond=0) <= since


async def serve_feed(request: Request, subject: Subject, *, fmt: str) -> Response:
    """The feed of ``subject`` in ``fmt``, or ``304`` when the client's copy is current;
    ``HEAD`` gets the headers of ``GET``."""
    settings = request.app.state.settings
    entries = await load_entries(subject)
    body = render_feed(settings, subject, entries, fmt=fmt)
    last_modified = entries.last_modified(subject)
    etag = etag_of(body)
    headers = {
        "ETag": etag,
        "Last-Modified": _http_date(last_modified),
        "Cache-Control": CACHE_CONTROL,
    }
    if is_not_modified(request, etag=etag, last_modified=last_modified):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(media_type=MEDIA_TYPES[fmt], headers=headers)
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


# --- What each address is about --------------------------------------------------------------


async def _all_resources(request: Request) -> Subject:
    settings = request.app.state.settings
    return Subject(
        path="/resources",
        title=f"{SITE} — ressources",
        description="Les dernières ressources publiées : guides, retours d'expérience, "
        "boîtes à outils, dossiers, webinaires…",
        link=portal_url(settings, "/"),
    )


async def _theme_resources(request: Request) -> Subject:
    settings = request.app.state.settings
    slug = request.path_params["slug"]
    theme = await themes.get_theme_by_slug(ANONYMOUS, slug)
    if theme is None:
        raise UnknownSubject(f"Thématique inconnue : « {slug} ».")
    return Subject(
        path=f"/themes/{quote(theme.slug, safe='')}/resources",
        title=f"{SITE} — {theme.title}",
        description=f"Les dernières ressources de la thématique « {theme.title} ».",
        link=page_url(settings, "Theme", theme.slug) or portal_url(settings, "/"),
        updated_at=theme.updated_at,
        theme_id=theme.id,
    )


async def _organization_resources(request: Request) -> Subject:
    settings = request.app.state.settings
    slug = request.path_params["slug"]
    organization = await organizations.get_organization_by_slug(slug)
    if organization is None:
        raise UnknownSubject(f"Organisation inconnue : « {slug} ».")
    return Subject(
        path=f"/organizations/{quote(organization.slug, safe='')}/resources",
        title=f"{SITE} — {organization.name}",
        description=f"Les dernières ressources de {organization.name}.",
        link=organization.website or portal_url(settings, "/"),
        updated_at=organization.updated_at,
        organization_id=organization.id,
    )


def _kinds_in_addresses() -> dict[str, ResourceKind]:
    return {kind.value.lower(): kind for kind in ResourceKind}


async def _kind_resources(request: Request) -> Subject:
    settings = request.app.state.settings
    name = request.path_params["kind"]
    kind = _kinds_in_addresses().get(name)
    if kind is None:
        known = ", ".join(_kinds_in_addresses())
        raise UnknownSubject(f"Type de ressource inconnu : « {name} » (types : {known}).")
    return Subject(
        path=f"/resources/{name}",
        title=f"{SITE} — {label(kind)}",
        description=f"Les dernières ressources de type « {label(kind)} ».",
        link=portal_url(settings, "/"),
        kind=kind,
    )


async def _partner_news(request: Request) -> Subject:
    settings = request.app.state.settings
    return Subject(
        path="/news",
        title=f"{SITE} — actualités des partenaires",
        description="Les dernières actualités des partenaires de Territoires en Commun.",
        link=portal_url(settings, "/"),
        kind=ResourceKind.NEWS,
    )


def _endpoint(
    subject_of: Callable[[Request], Awaitable[Subject]], fmt: str
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            subject = await subject_of(request)
        except UnknownSubject as unknown:
            return error_response(404, "NOT_FOUND", str(unknown))
        return await serve_feed(request, subject, fmt=fmt)

    return endpoint


_ADDRESSES: tuple[tuple[str, Callable[[Request], Awaitable[Subject]]], ...] = (
    ("/resources", _all_resources),
    ("/resources/{kind}", _kind_resources),
    ("/themes/{slug}/resources", _theme_resources),
    ("/organizations/{slug}/resources", _organization_resources),
    ("/news", _partner_news),
)


def routes() -> list[Route]:
    """Every feed, in RSS 2.0 (``.rss``) and Atom (``.atom``)."""
    return [
        Route(f"{path}.{fmt}", _endpoint(subject_of, fmt), methods=["GET", "HEAD"])
        for path, subject_of in _ADDRESSES
        for fmt in MEDIA_TYPES
    ]
