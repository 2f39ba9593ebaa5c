"""Composing an issue: run the template's GraphQL document through the public schema (with
the editor's rights), apply the editors' item decisions, render HTML and text once.

The mailer does not import the GraphQL layer: the caller injects an :data:`Executor`
(``schema.newsletters.executor`` builds the real one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mailer.links import issue_links
from mailer.render import RECIPIENT_PLACEHOLDERS, default_template, render_html, render_text
from services.newsletters.errors import CompositionFailed
from services.newsletters.models import IssueItem, NewsletterIssue, SectionKind
from services.newsletters.service import get_template, list_items
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
    sections after the editors' decisions, and the raw GraphQL data."""

    subject: str
    html: str
    text: str
    sections: dict[str, list[dict[str, Any]]]
    data: dict[str, Any]


def _dig(data: Any, path: str) -> list[dict[str, Any]]:
    for key in path.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    if data is None:
        return []
    return [d for d in (data if isinstance(data, list) else [data]) if isinstance(d, dict)]


def arrange_sections(
    spec: Mapping[str, str], data: Mapping[str, Any], decisions: Sequence[IssueItem]
) -> dict[str, list[dict[str, Any]]]:
    """Items of each section: editors' pinned items first, then those they placed (in
    their order), then what the query found; removed items left out; an item appears in
    the first section that has it only."""
    fetched = {n["id"]: n for n in _dig(data, "items")}
    seen: set[str] = set()
    sections: dict[str, list[dict[str, Any]]] = {}
    for kind in SectionKind:
        found = _dig(data, spec[kind.value]) if kind.value in spec else []
        mine = [d for d in decisions if d.section is kind]
        removed = {d.node_id for d in mine if d.removed}
        placed = sorted(
            (d for d in mine if not d.removed), key=lambda d: (not d.pinned, d.position, d.id)
        )
        by_id = {**fetched, **{n["id"]: n for n in found if "id" in n}}
        ordered = [by_id[d.node_id] for d in placed if d.node_id in by_id]
        ordered += [n for n in found if n.get("id") not in {d.node_id for d in placed}]
        items = []
        for node in ordered:
            key = node.get("id")
            if key in removed or key in seen:
                continue
            seen.add(key)
            items.append(node)
        sections[kind.value] = items
    return sections


def editor_item_ids(decisions: Sequence[IssueItem]) -> list[str]:
    return sorted({d.node_id for d in decisions if not d.removed})


async def compose_issue(
    execute: Executor,
    issue: NewsletterIssue,
    *,
    viewer: Viewer,
    settings: Settings,
    template: Mapping[str, Any] | None = None,
) -> ComposedIssue:
    """Compose ``issue`` as ``viewer`` sees the platform. Refused with the GraphQL errors
    (:class:`CompositionFailed`) when the document fails: nothing is rendered."""
    if template is None:
        stored = await get_template(issue.template_id)  # type: ignore[attr-defined]
        template = (
            {
                "document": stored.document,
                "mjml": stored.mjml,
                "text": stored.text,
                "sections": stored.sections,
            }
            if stored
            else default_template()
        )
    decisions = (await list_items([issue.id])).get(issue.id, [])
    variables = {**(issue.variables or {}), "items": editor_item_ids(decisions)}
    outcome = await execute(template["document"], variables, viewer)
    if outcome.errors or outcome.data is None:
        raise CompositionFailed(outcome.errors or [{"message": "aucune donnée"}])
    sections = arrange_sections(template["sections"] or {}, outcome.data, decisions)
    context = {
        "issue": {
            "title": issue.title,
            "subject": issue.subject,
            "number": issue.number,
            "introduction": issue.introduction,
            "preview": (issue.introduction or issue.title)[:140],
            "licence": f"Contenus sous licence Creative Commons BY-SA 4.0 — "
            f"Territoires en Commun, {dt.date.today().year}.",
        },
        "data": outcome.data,
        "sections": sections,
        "links": issue_links(settings, issue.slug),
        "recipient": RECIPIENT_PLACEHOLDERS,
    }
    html = render_html(template["mjml"], context)
    text_source = template.get("text") or ""
    text = render_text(text_source, context) if text_source else _text_of(html)
    return ComposedIssue(
        subject=issue.subject, html=html, text=text, sections=sections, data=outcome.data
    )


def _text_of(html: str) -> str:
    """A crude text version for templates without one: tags dropped, entities decoded."""
    import html as html_module
    import re

    body = re.sub(r"(?is)<(style|head|script)[^>]*>.*?</\1>", "", html)
    body = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>", "\n", body)
    text = html_module.unescape(re.sub(r"<[^>]+>", "", body))
    return re.sub(r"\n\s*\n+", "\n\n", text).strip() + "\n"
