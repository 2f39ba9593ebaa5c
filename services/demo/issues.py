"""The seeds' newsletters as issues of the platform: each issue keeps its sections (order,
titles, bodies, calls to action) and the items of each section, in the seed's order, as
editors' decisions in curated sections. Nothing here is HTML: ``tec demo`` composes them
from content with the default template, as of each issue's date, and puts them in the
archive (``mailer.compose.archive_issue``).

Idempotent: an issue is matched by its slug; one in the archive already is left as it is.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import Counter
from typing import Any

from services.concepts.models import Concept
from services.newsletters.models import IssueItem, IssueStatus, NewsletterIssue, SectionKind
from services.newsletters.sections import TEXT_FIELDS, Section, clean_issue_sections
from services.newsletters.service import default_variables
from services.registry import ContentType, content_types
from services.themes.models import Theme


def global_id(type_name: str, pk: int) -> str:
    """The GraphQL global ID of a node (the format of ``schema.relay.to_global_id``)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def _month(value: str) -> dt.date:
    return dt.date.fromisoformat(f"{value}-01")


def sent_at(newsletter: dict[str, Any]) -> dt.datetime:
    """When a seed issue went out (the moment it is composed as of)."""
    return dt.datetime.fromisoformat(newsletter["sent_at"])


def _content_of(item_type: str) -> ContentType:
    """The content type of an item: the demo file names it by the singular of the list
    holding that type's rows (``voting_round`` for ``voting_rounds``)."""
    for content in content_types():
        if content.demo is not None and content.demo.key == f"{item_type}s":
            return content
    raise LookupError(f"no content type has demo rows of type {item_type!r}")


async def _node_id(item: dict[str, Any]) -> str:
    content = _content_of(item["type"])
    row = await content.model.get(slug=item["slug"])
    return global_id(content.name, row.id)


def _first_slug(newsletter: dict[str, Any], kind: str, type_: str) -> str | None:
    for section in newsletter["sections"]:
        if section["kind"] == kind:
            for item in section["items"]:
                if item["type"] == type_:
                    return str(item["slug"])
    return None


def _sections(newsletter: dict[str, Any]) -> list[Section]:
    """The seed's sections as it shows them: wording the seed does not have is empty (not
    the template's); the introduction's text is the issue's introduction."""
    found = []
    for raw in newsletter["sections"]:
        kind = SectionKind(raw["kind"])
        wording = {name: raw.get(name) or "" for name in TEXT_FIELDS}
        if kind is SectionKind.INTRODUCTION:
            wording["body"] = ""
        found.append(Section(kind=kind, curated=bool(raw["items"]), **wording))
    return found


async def load_demo_issues(data: dict[str, Any], counts: Counter[str]) -> None:
    """Create (or bring up to date, while not sent) the seeds' issues and their items."""
    for newsletter in data.get("newsletters", []):
        counts["NewsletterIssue"] += 1
        found = await NewsletterIssue.filter(slug=newsletter["slug"]).first()
        if found is not None and found.status is not IssueStatus.DRAFT:
            continue
        month = _month(newsletter["month"])
        theme_slug = _first_slug(newsletter, "THEME_OF_THE_MONTH", "theme")
        concept_slug = _first_slug(newsletter, "CONCEPT", "concept")
        theme = await Theme.get(slug=theme_slug) if theme_slug else None
        concept = await Concept.get(slug=concept_slug) if concept_slug else None
        introduction = next(
            (s["body"] or "" for s in newsletter["sections"] if s["kind"] == "INTRODUCTION"), ""
        )
        issue, created = await NewsletterIssue.update_or_create(
            defaults={
                "number": newsletter["number"],
                "title": newsletter["title"],
                "subject": newsletter["title"],
                "month": month,
                "introduction": introduction,
                "variables": default_variables(month, theme, concept),
                "sections": clean_issue_sections(_sections(newsletter)),
            },
            slug=newsletter["slug"],
        )
        counts["NewsletterIssue+"] += int(created)
        for section in newsletter["sections"]:
            for position, item in enumerate(section["items"], start=1):
                _, made = await IssueItem.update_or_create(
                    defaults={"position": position, "cta": item.get("cta"), "removed": False},
                    issue=issue,
                    section=SectionKind(section["kind"]),
                    node_id=await _node_id(item),
                )
                counts["IssueItem+"] += int(made)


async def issues_to_archive(data: dict[str, Any]) -> list[tuple[NewsletterIssue, dt.datetime]]:
    """The seeds' issues not in the archive yet, with the moment each went out."""
    found = []
    for newsletter in data.get("newsletters", []):
        issue = await NewsletterIssue.filter(
            slug=newsletter["slug"], status=IssueStatus.DRAFT
        ).first()
        if issue is not None:
            found.append((issue, sent_at(newsletter)))
    return found
