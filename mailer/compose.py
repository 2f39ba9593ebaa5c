"""Composing an issue: run the template's GraphQL document through the public schema as an
anonymous reader on the issue's date, arrange each section's items (editors' decisions,
then what the query found), render HTML and text once.

What subscribers receive is what the public could read that day: drafts and content
published later are not there, and fields that depend on « now » (the next theme, whether
the vote is open, the ranking, a project's stage) are as of the issue's date. Editors'
rights only serve to read the issue itself (the callers check them).

The mailer does not import the GraphQL layer: the caller injects an :data:`Executor`
(``schema.newsletters.executor`` builds the real one).
"""

from __future__ import annotations

import datetime as dt
import html as html_module
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mailer.links import issue_links, item_link, page_url, portal_url
from mailer.render import RECIPIENT_PLACEHOLDERS, default_template, render_html, render_text
from mailer.typography import PARIS, fr_date, typeset, typeset_html
from services.labels import month_label
from services.newsletters.errors import CompositionFailed
from services.newsletters.models import IssueItem, NewsletterIssue, SectionKind
from services.newsletters.sections import (
    Section,
    declared_sections,
    effective_sections,
    issue_sections,
)
from services.newsletters.service import get_template, issue_date, list_items
from services.settings import Settings
from services.viewer import Viewer


@dataclass(frozen=True)
class ExecutionOutcome:
    """What executing a GraphQL document gave: ``data`` and errors as JSON dicts."""

    data: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)


Executor = Callable[[str, Mapping[str, Any], Viewer], Awaitable[ExecutionOutcome]]


@dataclass(frozen=True)
class ComposedIssue:
    """An issue rendered once: subject, HTML and text with recipient placeholders, the
    sections (in the issue's order) after the editors' decisions, the raw GraphQL data,
    and the moment it was composed as of."""

    subject: str
    html: str
    text: str
    sections: dict[str, list[dict[str, Any]]]
    data: dict[str, Any]
    as_of: dt.datetime | None = None


def _dig(data: Any, path: str) -> list[dict[str, Any]]:
    for key in path.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    if data is None:
        return []
    return [d for d in (data if isinstance(data, list) else [data]) if isinstance(d, dict)]


def arrange_sections(
    spec: Mapping[str, str] | Sequence[Section] | Sequence[Mapping[str, Any]],
    data: Mapping[str, Any],
    decisions: Sequence[IssueItem],
) -> dict[str, list[dict[str, Any]]]:
    """Items of each section, in the sections' order. Editors' pinned items first, then
    those they placed (in their order), then what the query found (up to the section's
    ``limit``; nothing in a ``curated`` section); removed items are left out. An item
    the query finds appears once, in the first section that shows it; an item editors
    placed appears where they placed it (the same event may be a news item's date and an
    entry of the agenda). An item an editor gave a link wording carries it as ``cta``."""
    sections = spec if isinstance(spec, Sequence) else declared_sections(spec)
    layout = [s if isinstance(s, Section) else declared_sections([s])[0] for s in sections]
    if isinstance(spec, Mapping):  # the older form: every kind, empty when not declared
        declared = {s.kind for s in layout}
        layout += [Section(kind=k) for k in SectionKind if k not in declared]
        layout.sort(key=lambda s: list(SectionKind).index(s.kind))
    fetched = {n["id"]: n for n in _dig(data, "items") if "id" in n}
    seen: set[str] = set()
    arranged: dict[str, list[dict[str, Any]]] = {}
    for section in layout:
        found = _dig(data, section.items) if section.items else []
        mine = [d for d in decisions if d.section is section.kind]
        removed = {d.node_id for d in mine if d.removed}
        placed = sorted(
            (d for d in mine if not d.removed), key=lambda d: (not d.pinned, d.position, d.id)
        )
        by_id = {**fetched, **{n["id"]: n for n in found if "id" in n}}
        items: list[dict[str, Any]] = []
        shown: set[str] = set()
        for decision in placed:
            node = by_id.get(decision.node_id)
            if node is None or decision.node_id in shown:
                continue
            cta = getattr(decision, "cta", None)
            items.append({**node, "cta": cta} if cta is not None else node)
            shown.add(decision.node_id)
        if not section.curated:
            added = 0
            for node in found:
                key = node.get("id")
                if key in removed or key in shown or key in seen:
                    continue
                if section.limit is not None and added >= section.limit:
                    break
                items.append(node)
                shown.add(key)
                added += 1
        seen |= shown
        arranged[section.kind.value] = items
    return arranged


def editor_item_ids(decisions: Sequence[IssueItem]) -> list[str]:
    return sorted({d.node_id for d in decisions if not d.removed})


async def template_of(template_id: int | None) -> dict[str, Any]:
    """A stored template, or the built-in default (None)."""
    stored = await get_template(template_id)
    if stored is None:
        return default_template()
    return {
        "document": stored.document,
        "mjml": stored.mjml,
        "text": stored.text,
        "sections": stored.sections,
    }


def layout_of(template: Mapping[str, Any], issue_choice: Any) -> list[Section]:
    """The sections an issue is made of: its own choice (``issue.sections``), or its
    template's."""
    return effective_sections(
        declared_sections(template.get("sections")), issue_sections(issue_choice)
    )


async def compose_issue(
    execute: Executor,
    issue: NewsletterIssue,
    *,
    settings: Settings,
    viewer: Viewer | None = None,
    template: Mapping[str, Any] | None = None,
    as_of: dt.datetime | None = None,
) -> ComposedIssue:
    """Compose ``issue`` as an anonymous reader sees the platform on the issue's date
    (``as_of``, by default :func:`~services.newsletters.service.issue_date`). ``viewer``,
    who asks, is not who reads: callers have checked their rights. Refused with the
    GraphQL errors (:class:`CompositionFailed`) when the document fails: nothing is
    rendered."""
    del viewer  # composition never reads with the editor's rights
    if template is None:
        template = await template_of(issue.template_id)  # type: ignore[attr-defined]
    moment = as_of or issue_date(issue)
    reader = Viewer(as_of=moment)
    decisions = (await list_items([issue.id])).get(issue.id, [])
    variables = {**(issue.variables or {}), "items": editor_item_ids(decisions)}
    outcome = await execute(template["document"], variables, reader)
    if outcome.errors or outcome.data is None:
        raise CompositionFailed(outcome.errors or [{"message": "aucune donnée"}])
    layout = layout_of(template, issue.sections)
    raw_sections = template.get("sections")
    context = render_context(
        issue,
        outcome.data,
        raw_sections if isinstance(raw_sections, Mapping) else layout,
        decisions,
        settings=settings,
        as_of=moment,
    )
    html = typeset_html(render_html(template["mjml"], context))
    text_source = template.get("text") or ""
    text = typeset(render_text(text_source, context)) if text_source else _text_of(html)
    return ComposedIssue(
        subject=issue.subject,
        html=html,
        text=text,
        sections=context["sections"],
        data=outcome.data,
        as_of=moment,
    )


def render_context(
    issue: Any,
    data: Mapping[str, Any],
    layout: Mapping[str, str] | Sequence[Section],
    decisions: Sequence[IssueItem],
    *,
    settings: Settings,
    as_of: dt.datetime,
) -> dict[str, Any]:
    """What templates see: ``issue``, ``data`` (the query's result), ``sections`` (items
    per kind, in order), ``layout`` (the sections in order with their wording, items as
    ``entries`` and the target of their call to action as ``link``), ``links``,
    ``footer`` (contact, postal address) and ``recipient`` (placeholders). Every item
    carries its ``link``: its own address, else its page on the portal."""
    sections = arrange_sections(layout, data, decisions)
    links = issue_links(settings, issue.slug)
    for items in sections.values():
        for item in items:
            item["link"] = item_link(settings, item)
    ordered = layout if not isinstance(layout, Mapping) else layout_of({"sections": layout}, None)
    return {
        "issue": _issue_context(issue, as_of),
        "data": data,
        "sections": sections,
        "layout": [_section_context(s, sections, settings, links) for s in ordered],
        "links": links,
        "footer": {
            "contact": settings.newsletters.newsletter_contact,
            "address": settings.newsletters.newsletter_postal_address,
        },
        "recipient": RECIPIENT_PLACEHOLDERS,
    }


def _issue_context(issue: Any, moment: dt.datetime) -> dict[str, Any]:
    local = moment.astimezone(PARIS)
    month = issue.month or local.date().replace(day=1)
    return {
        "title": issue.title,
        "subject": issue.subject,
        "number": issue.number,
        "introduction": issue.introduction,
        "preview": (issue.introduction or issue.title)[:140],
        "month": month_label(month),
        "date": fr_date(local),
        "licence": f"Contenus en Creative Commons {local.year} Territoires en commun. "
        "N'hésitez pas à partager !",
    }


def _section_context(
    section: Section,
    sections: Mapping[str, list[dict[str, Any]]],
    settings: Settings,
    links: Mapping[str, str],
) -> dict[str, Any]:
    items = sections.get(section.kind.value, [])
    wording = {
        name: (value or "").replace("{contact}", settings.newsletters.newsletter_contact)
        for name, value in (
            ("title", section.title),
            ("body", section.body),
            ("cta", section.cta),
            ("item_cta", section.item_cta),
        )
    }
    return {
        "kind": section.kind.value,
        "entries": items,
        "link": _section_link(section.kind, items, settings, links),
        **wording,
    }


def _section_link(
    kind: SectionKind,
    items: Sequence[Mapping[str, Any]],
    settings: Settings,
    links: Mapping[str, str],
) -> str:
    """Where a section's call to action leads: the contribution form for the next theme,
    the footer's contact address, else the page of the section's first item of the kind
    it is about, else the portal's home page."""
    if kind is SectionKind.NEXT_THEME:
        return links["contribute"]
    if kind is SectionKind.FOOTER:
        return links["contact"]
    wanted = {
        SectionKind.THEME_OF_THE_MONTH: "Theme",
        SectionKind.VOTE: "VotingRound",
        SectionKind.SHARED_PROJECTS: "SharedProject",
        SectionKind.CONCEPT: "Concept",
    }.get(kind)
    for item in items:
        if wanted and item.get("__typename") == wanted:
            found = page_url(settings, wanted, str(item.get("slug") or ""))
            if found:
                return found
    return portal_url(settings, "/")


async def archive_issue(
    execute: Executor, issue: NewsletterIssue, *, settings: Settings, sent_at: dt.datetime
) -> NewsletterIssue:
    """Put an issue of the past in the archive: composed from content as of ``sent_at``,
    frozen, marked sent (no message goes out)."""
    from services.newsletters.service import record_sent_issue

    composed = await compose_issue(execute, issue, settings=settings, as_of=sent_at)
    return await record_sent_issue(
        issue.id, subject=composed.subject, html=composed.html, text=composed.text, sent_at=sent_at
    )


def _text_of(html: str) -> str:
    """A crude text version for templates without one: tags dropped, entities decoded."""
    body = re.sub(r"(?is)<(style|head|script)[^>]*>.*?</\1>", "", html)
    body = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>", "\n", body)
    text = html_module.unescape(re.sub(r"<[^>]+>", "", body))
    return re.sub(r"\n\s*\n+", "\n\n", text).strip() + "\n"
