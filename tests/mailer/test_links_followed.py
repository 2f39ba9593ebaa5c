"""Every link of every e-mail works, followed end to end.

Three people subscribe through GraphQL; their confirmation e-mails, a test send and the
issue itself travel over SMTP to aiosmtpd on loopback. Each received message is parsed
(HTML and text parts) and each of its links is checked: gateway links are followed against
the application (preferences open, unsubscribing shows a button then works), links to the
partner portal and to content elsewhere must be absolute http(s) URLs, and no link is
empty, ``#``, into ``/graphql`` or a recipient token left raw. The public archive page of
the issue passes the same scan, with nobody's links in it.
"""

from __future__ import annotations

import email.utils
import re
import struct
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.app import create_app
from mailer.sending import SAMPLE_NAME, send_issue
from mailer.transport import SMTPTransport
from schema import build_schema
from schema.newsletters.executor import build_executor
from schema.relay import from_global_id, to_global_id
from services.subscribers.models import Subscriber, SubscriberStatus
from tests.mailer.support import SMTPRecorder, fresh_theme
from tests.unique import unique_tag

RAW_TOKENS = ("tec_recipient__", "\\u{e000}", "\ue000", "\ue001")
PEOPLE = ("Élise Dupont", "Bastien", "Zoé & Louis")


class _Links(HTMLParser):
    """Links of an HTML document: ``(tag, attribute, value)`` of every href and src, and
    where each image links to."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []
        self.image_links: dict[str, str] = {}
        self._anchor: str | None = None

    def handle_starttag(self, tag, attrs):
        values = {name: value or "" for name, value in attrs}
        self.found += [(tag, name, values[name]) for name in ("href", "src") if name in values]
        if tag == "a":
            self._anchor = values.get("href")
        elif tag == "img" and self._anchor is not None:
            self.image_links[values.get("src", "")] = self._anchor

    def handle_endtag(self, tag):
        if tag == "a":
            self._anchor = None


@dataclass
class Mail:
    """A received message: its headers, text, HTML, and the links of both parts."""

    message: Message
    html: str
    text: str
    links: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, message: Message) -> Mail:
        parts = {p.get_content_type(): p for p in message.walk() if not p.is_multipart()}
        assert list(parts) == ["text/plain", "text/html"], list(parts)
        html = parts["text/html"].get_payload(decode=True).decode("utf-8")
        text = parts["text/plain"].get_payload(decode=True).decode("utf-8")
        return cls(message, html, text, _links(html) + _text_links(text))

    def link(self, path: str) -> str:
        """The one gateway link to ``path`` (the HTML and text parts agree on it)."""
        found = {u for u in self.links if urlsplit(u).path == path}
        assert len(found) == 1, (path, found)
        return found.pop()


def _parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    parser.close()
    return parser


def _links(html: str) -> list[str]:
    return [value for _, _, value in _parse(html).found]


def _text_links(text: str) -> list[str]:
    return re.findall(r"(?:https?|mailto):[^\s<>\"]+", text)


@dataclass
class Site:
    """The gateway the links point to, and the hosts they may point to elsewhere."""

    client: httpx.AsyncClient
    host: str
    portal_host: str
    archive: str

    def local(self, url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    async def check(self, document: str, links: list[str]) -> None:
        """No raw token; every link well formed; gateway links answer 200."""
        problems = [f"raw recipient token {raw!r}" for raw in RAW_TOKENS if raw in document]
        if not links:
            problems.append("no links at all")
        for url in dict.fromkeys(links):
            problems += await self._problems(url)
        assert not problems, "\n".join(problems)

    async def _problems(self, url: str) -> list[str]:
        if not url.strip() or url.strip() == "#":
            return [f"empty link: {url!r}"]
        parts = urlsplit(url)
        if parts.scheme == "mailto":
            return [] if "@" in parts.path else [f"mailto without an address: {url}"]
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return [f"not a URL: {url!r}"]
        if parts.path.rstrip("/").endswith("/graphql"):
            return [f"into the GraphQL endpoint: {url}"]
        if parts.hostname != self.host:
            # The portal and content published elsewhere: the shape is all we can check.
            return []
        response = await self.client.get(self.local(url))
        if response.status_code != 200:
            return [f"{url}: HTTP {response.status_code}"]
        if parts.path.endswith(".png") and response.headers["content-type"] != "image/png":
            return [f"{url}: {response.headers['content-type']}, not a PNG"]
        return []


@pytest.fixture
async def site(news_settings, smtp_server):
    _, port = smtp_server
    settings = news_settings.replace(
        **{"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout": 5.0}
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.21", 4242))
    async with httpx.AsyncClient(transport=transport, base_url="https://tec.example") as client:
        portal = settings.newsletters.portal_url
        yield Site(
            client,
            host=urlsplit(settings.http.base_url).hostname,
            portal_host=urlsplit(portal).hostname or "",
            archive=f"{settings.http.base_url}/newsletters",
        )


async def _gql(client: httpx.AsyncClient, query: str, variables: dict, headers=None) -> dict:
    body = (
        await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    ).json()
    assert "errors" not in body, body
    refused = [p for p in body["data"].values() if isinstance(p, dict) and p.get("errors")]
    assert not refused, refused
    return body["data"]


def _check_list_headers(message: Message) -> None:
    assert message["List-Id"] == "Territoires en Commun <newsletter.territoires-en-commun.example>"
    assert message["List-Unsubscribe"].startswith("<https://tec.example/newsletters/unsubscribe")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] and message["Date"].endswith("+0000")
    assert email.utils.parsedate_to_datetime(message["Date"]).tzinfo is not None


def _only(recorder: SMTPRecorder, address: str) -> Mail:
    [received] = recorder.to(address)
    return Mail.of(received.message)


async def _follow_one_click(site: Site, url: str, *, button: str) -> httpx.Response:
    """A link that acts: GET shows a button (and changes nothing), POST acts."""
    page = await site.client.get(site.local(url))
    assert page.status_code == 200 and '<form method="post"' in page.text
    assert button in page.text
    return await site.client.post(site.local(url))


async def test_every_link_of_every_mail_works(site, smtp_server, news_settings, principals):
    recorder, port = smtp_server
    theme = await fresh_theme()
    tag = unique_tag(8)
    addresses = [f"lien-{tag}-{i}@example.org" for i in range(len(PEOPLE))]

    # 1. Subscribe, then confirm through the link of the confirmation e-mail.
    for address, name in zip(addresses, PEOPLE, strict=True):
        await _gql(
            site.client,
            """mutation($input: SubscribeInput!) { subscribe(input: $input) {
                message errors { code } } }""",
            {
                "input": {
                    "email": address,
                    "name": name,
                    "themes": [to_global_id("Theme", theme.id)],
                }
            },
        )
    for address in addresses:
        mail = _only(recorder, address)
        _check_list_headers(mail.message)
        await site.check(mail.html + mail.text, mail.links)
        confirmed = await _follow_one_click(
            site, mail.link("/newsletters/confirm"), button="Confirmer mon abonnement"
        )
        assert confirmed.status_code == 200 and "Abonnement confirmé" in confirmed.text
    rows = {s.email: s for s in await Subscriber.filter(email__in=addresses)}
    assert {r.status for r in rows.values()} == {SubscriberStatus.CONFIRMED}

    # 2. An editor writes the issue, sends themselves a test, then sends it.
    editor = principals["EDITOR"]
    created = await _gql(
        site.client,
        """mutation($input: NewsletterIssueCreateInput!) {
            createNewsletterIssue(input: $input) { issue { id slug } errors { code } } }""",
        {
            "input": {
                "title": f"Juin 2021 {tag}",
                "month": "2021-06-01",
                "introduction": "Bienvenue dans ce numéro.",
                "themes": [to_global_id("Theme", theme.id)],
            }
        },
        headers=editor,
    )
    issue = created["createNewsletterIssue"]["issue"]
    reviewer = f"relecture-{tag}@example.org"
    await _gql(
        site.client,
        """mutation($id: ID!, $to: String!) { sendTestNewsletter(id: $id, to: $to) {
            receipt { messageId } errors { code } } }""",
        {"id": issue["id"], "to": reviewer},
        headers=editor,
    )
    execute = build_executor(build_schema(news_settings), news_settings)
    transport = SMTPTransport(host="127.0.0.1", port=port, timeout=5)
    try:
        counts = await send_issue(
            execute,
            int(from_global_id(issue["id"])[1]),
            settings=news_settings,
            transport=transport,
        )
    finally:
        await transport.close()
    assert counts["SENT"] == len(addresses)

    # 3. Each subscriber's issue: their name, their links, all of them working.
    issues = {}
    for address, name in zip(addresses, PEOPLE, strict=True):
        [_, received] = recorder.to(address)  # the confirmation, then the issue
        mail = issues[address] = Mail.of(received.message)
        _check_list_headers(mail.message)
        assert f"Bonjour {name}," in mail.text
        assert f"Bonjour {name.replace('&', '&amp;')}," in mail.html
        await site.check(mail.html + mail.text, mail.links)
        token = f"token={_token_of(mail.message['List-Unsubscribe'])}"
        assert token in mail.link("/newsletters/unsubscribe")
        assert mail.link("/newsletters/unsubscribe") == mail.message["List-Unsubscribe"][1:-1]
        assert token in mail.link("/newsletters/preferences")
        [home] = [
            href
            for src, href in _parse(mail.html).image_links.items()
            if urlsplit(src).path == "/newsletters/logo.png"
        ]
        # The logo leads to the portal's home, or to the archive (followed by check()).
        assert urlsplit(home).hostname == site.portal_host or home == site.archive, home

    first, second, third = addresses
    # The footer's link: a button, then unsubscribed.
    done = await _follow_one_click(
        site, issues[first].link("/newsletters/unsubscribe"), button="Me désabonner"
    )
    assert done.status_code == 200 and "Désabonnement enregistré" in done.text
    # The mail client's one-click unsubscribe (RFC 8058).
    one_click = await site.client.post(
        site.local(issues[second].message["List-Unsubscribe"][1:-1]),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    # Preferences open with the subscriber's details and save.
    preferences = issues[third].link("/newsletters/preferences")
    page = await site.client.get(site.local(preferences))
    assert page.status_code == 200 and "Zoé &amp; Louis" in page.text
    saved = await site.client.post(
        site.local(preferences),
        content="name=Zoé+et+Louis&audience=CITIZEN".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert saved.status_code == 200
    statuses = {s.email: s for s in await Subscriber.filter(email__in=addresses)}
    assert statuses[first].status is SubscriberStatus.UNSUBSCRIBED
    assert statuses[second].status is SubscriberStatus.UNSUBSCRIBED
    assert statuses[third].status is SubscriberStatus.CONFIRMED
    assert statuses[third].name == "Zoé et Louis"

    # 4. The test send: the sample recipient, links that lead somewhere, list headers.
    test = _only(recorder, reviewer)
    assert test.message["List-Id"] and test.message["List-Unsubscribe-Post"]
    assert f"Bonjour {SAMPLE_NAME}," in test.text and f"Bonjour {SAMPLE_NAME}," in test.html
    assert "token=" not in test.html + test.text
    await site.check(test.html + test.text, test.links)

    # 5. The public archive page: what was sent, with nobody's links.
    archive = await site.client.get(f"/newsletters/{issue['slug']}")
    assert archive.status_code == 200
    assert "token=" not in archive.text and "Bonjour," in archive.text
    await site.check(archive.text, _links(archive.text))


def _token_of(header: str) -> str:
    return re.search(r"token=([^>&]+)", header).group(1)


async def test_the_logo_is_a_real_image_allowed_on_the_pages(site):
    response = await site.client.get("/newsletters/logo.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    png = response.content
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (440, 120)  # 2× the 220×60 of the template
    page = await site.client.get("/newsletters")
    csp = page.headers["content-security-policy"]
    img_src = re.search(r"img-src ([^;]+)", csp).group(1).split()
    assert "'self'" in img_src and "script-src" not in csp


async def test_a_configured_logo_replaces_the_built_in_one_everywhere(news_settings, database):
    from mailer.links import issue_links

    settings = news_settings.replace(
        **{"newsletter_logo_url": "http://media.example:8080/tec/logo.png"}
    )
    assert issue_links(settings, "juin")["logo"] == "http://media.example:8080/tec/logo.png"
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://tec.example") as client:
        page = await client.get("/newsletters")
    img_src = re.search(r"img-src ([^;]+)", page.headers["content-security-policy"]).group(1)
    assert "http://media.example:8080" in img_src.split()
