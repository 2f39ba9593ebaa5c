"""Newsletter issues: writing them (introduction, items, segment), scheduling, cancelling,
and freezing what is sent.

Composition itself (running the template's GraphQL document, rendering MJML) is the
mailer's job; this module keeps the rules and the state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from services.concepts.models import Concept
from services.content import ContentStatus
from services.editing import check_version, now, write_transaction
from services.errors import BadUserInput, Conflict, NotFound, Problems
from services.labels import month_label
from services.newsletters.models import (
    IssueItem,
    IssueStatus,
    NewsletterIssue,
    NewsletterTemplate,
    SectionKind,
)
from services.newsletters.sections import Section, clean_issue_sections, declared_sections
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.policy import authorize, is_allowed
from services.subscribers.models import SubscriberAudience
from services.subscribers.service import Segment
from services.themes.models import Theme
from services.validation import TITLE_MAX, clean_slug, clean_text, require_aware, unique_slug
from services.viewer import Viewer

SUBJECT_MAX = 200
INTRODUCTION_MAX = 10_000
ORDERING = Ordering((SortKey("id", True, "int"),))
ARCHIVE_ORDERING = Ordering((SortKey("sent_at", True, "datetime"), SortKey("id", True, "int")))
EDITABLE = (IssueStatus.DRAFT, IssueStatus.SCHEDULED)
# Sections whose items editors may add, pin, remove and reorder: every section but the
# fixed parts of the page.
ITEM_SECTIONS = frozenset(SectionKind) - {
    SectionKind.VIEW_IN_BROWSER,
    SectionKind.INTRODUCTION,
    SectionKind.FOOTER,
}
PARIS = ZoneInfo("Europe/Paris")


def clean_header_text(value: str, *, field: str, max_length: int = SUBJECT_MAX) -> str:
    """Text that goes into a mail header: CR, LF and other control characters are refused
    (header injection), not stripped."""
    if "\r" in value or "\n" in value:
        raise BadUserInput(
            f"« {field} » ne peut pas contenir de retour à la ligne (injection d'en-tête).",
            field=field,
        )
    return clean_text(value, field=field, max_length=max_length)


@dataclass
class IssueChanges:
    """Fields of an issue; None leaves a field as it is."""

    title: str | None = None
    subject: str | None = None
    introduction: str | None = None
    variables: dict[str, Any] | None = None
    segment_audiences: Sequence[str] | None = None
    segment_themes: Sequence[int] | None = None
    template_id: int | None = None


def default_variables(
    month: dt.date,
    theme: Theme | None,
    concept: Concept | None,
    *,
    since: dt.datetime | None = None,
) -> dict:
    """Variables of the default template for an issue of ``month``: its theme and concept,
    the agenda period (from the 1st of the month, or ``since`` when that falls in the
    period, to the end of the next month), items per section."""
    start = _month_start(month)
    following = _month_start(month.replace(day=1) + dt.timedelta(days=62))
    begins = since if since is not None and start < since < following else start
    return {
        "theme": theme.slug if theme else "",
        "concept": concept.slug if concept else "",
        "from": begins.astimezone(dt.UTC).isoformat(),
        "to": following.astimezone(dt.UTC).isoformat(),
        "first": 4,
    }


def _month_start(day: dt.date) -> dt.datetime:
    """Midnight of the first day of ``day``'s month, Paris time."""
    return dt.datetime(day.year, day.month, 1, tzinfo=PARIS)


def issue_date(issue: NewsletterIssue, *, at: dt.datetime | None = None) -> dt.datetime:
    """The moment an issue is composed as of (its readers' « today »): when it was sent;
    else when sending started; else when it is scheduled; else now (``at``), or the
    start of its month when that is later (a draft prepared ahead of its month)."""
    for moment in (issue.sent_at, issue.frozen_at, issue.scheduled_at):
        if moment is not None:
            return moment
    present = at or now()
    if issue.month is not None:
        return max(present, _month_start(issue.month))
    return present


async def themes_of(month: dt.date) -> tuple[Theme | None, Concept | None]:
    """The theme and the concept of ``month``: the latest published ones whose month has
    begun by then (the current theme stays current until the next one starts)."""
    first = month.replace(day=1)
    theme = (
        await Theme.filter(month__lte=first, status=ContentStatus.PUBLISHED)
        .order_by("-month")
        .first()
    )
    concept = (
        await Concept.filter(month__lte=first, status=ContentStatus.PUBLISHED)
        .order_by("-month")
        .first()
    )
    return theme, concept


async def _clean(changes: IssueChanges, *, title_is_subject: bool = False) -> dict[str, Any]:
    """The values of ``changes``, every field checked before any is refused.
    ``title_is_subject``: the subject is the title (none given), so the title must be fit
    for a mail header too."""
    problems = Problems()
    values: dict[str, Any] = {}
    if changes.title is not None:
        title = changes.title
        if title_is_subject:
            values["title"] = problems.check(lambda: clean_header_text(title, field="title"))
        else:
            values["title"] = problems.check(
                lambda: clean_text(title, field="title", max_length=TITLE_MAX)
            )
    if changes.subject is not None:
        subject = changes.subject
        values["subject"] = problems.check(lambda: clean_header_text(subject, field="subject"))
    if changes.introduction is not None:
        introduction = changes.introduction
        values["introduction"] = problems.check(
            lambda: clean_text(
                _multiline(introduction),
                field="introduction",
                max_length=INTRODUCTION_MAX,
                required=False,
            )
        )
    if changes.variables is not None:
        if isinstance(changes.variables, dict):
            values["variables"] = changes.variables
        else:
            problems.add(BadUserInput("« variables » doit être un objet JSON.", field="variables"))
    if changes.segment_audiences is not None:
        unknown = [a for a in changes.segment_audiences if a not in SubscriberAudience.__members__]
        if unknown:
            problems.add(BadUserInput(f"Public inconnu : « {unknown[0]} ».", field="audiences"))
        values["segment_audiences"] = sorted(set(changes.segment_audiences))
    if changes.segment_themes is not None:
        wanted = sorted(set(changes.segment_themes))
        if await Theme.filter(id__in=wanted).count() != len(wanted):
            problems.add(BadUserInput("Le segment désigne un thème inexistant.", field="themes"))
        values["segment_themes"] = wanted
    if changes.template_id is not None:
        if not await NewsletterTemplate.filter(id=changes.template_id).exists():
            problems.add(BadUserInput("Gabarit introuvable.", field="template"))
        values["template_id"] = changes.template_id
    problems.raise_any()
    return values


def _multiline(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def segment_of(issue: NewsletterIssue) -> Segment:
    return Segment(audiences=issue.segment_audiences or (), theme_ids=issue.segment_themes or ())


async def create_issue(
    viewer: Viewer,
    *,
    title: str,
    subject: str | None = None,
    month: dt.date | None = None,
    slug: str | None = None,
    changes: IssueChanges | None = None,
) -> NewsletterIssue:
    """A draft issue for ``month`` (this month by default) with the default template's
    variables: the theme of that month, the agenda period, four items per section."""
    authorize(viewer, "newsletter.compose")
    present = now()
    month = (month or present.astimezone(PARIS).date()).replace(day=1)
    theme, concept = await themes_of(month)
    given = replace(changes or IssueChanges(), title=title)
    if subject is not None:
        given.subject = subject
    values = await _clean(given, title_is_subject=given.subject is None)
    values.setdefault("subject", values["title"])
    values.setdefault("variables", default_variables(month, theme, concept, since=present))
    values["month"] = month
    async with write_transaction():
        values["slug"] = (
            clean_slug(slug) if slug else await unique_slug(NewsletterIssue, values["title"])
        )
        number = (await NewsletterIssue.all().count()) + 1
        issue = await NewsletterIssue.create(number=number, **values)
        await _audit(viewer, "newsletter.create", issue)
    return issue


async def draft_issue(viewer: Viewer, *, month: dt.date) -> NewsletterIssue:
    """A draft issue for ``month``, pre-filled from that month's content: the template's
    sections, the current theme and concept, the agenda from today (or the 1st) to the
    end of the next month. Composition then finds the theme's resources, the next theme,
    the open vote, news and upcoming events; editors review, pin and write the
    introduction."""
    authorize(viewer, "newsletter.compose")
    month = month.replace(day=1)
    theme, _ = await themes_of(month)
    title = f"Territoires en Commun — {month_label(month)}"
    if theme is not None and theme.month == month:
        title += f" : {theme.title}"
    taken = await NewsletterIssue.filter(slug=f"{month:%Y-%m}").exists()
    return await create_issue(
        viewer,
        title=title,
        month=month,
        slug=None if taken else f"{month:%Y-%m}",
    )


async def set_sections(
    viewer: Viewer, issue_id: int, *, version: int, sections: Sequence[Section]
) -> NewsletterIssue:
    """Choose an issue's sections: their order, those left out (not listed), their
    titles, bodies and calls to action (None keeps the template's), and whether a
    section shows only the items editors placed. The footer cannot be left out."""
    authorize(viewer, "newsletter.sections")
    stored = clean_issue_sections(sections)
    async with write_transaction():
        issue = await _editable(issue_id, version)
        issue = await _bump(issue, {"sections": stored})
        await _audit(viewer, "newsletter.sections", issue, sections=[s["kind"] for s in stored])
    return issue


async def record_sent_issue(
    issue_id: int, *, subject: str, html: str, text: str, sent_at: dt.datetime
) -> NewsletterIssue:
    """Put an issue of the past in the archive: frozen as composed and marked sent at
    ``sent_at``, with no message queued (the demo's seed issues). An issue sent already
    is left as it is."""
    require_aware(sent_at, field="sent_at")
    async with write_transaction():
        issue = await NewsletterIssue.filter(id=issue_id).select_for_update().first()
        if issue is None:
            raise NotFound("Numéro de newsletter introuvable.", field="id")
        if issue.status is IssueStatus.SENT:
            return issue
        return await _bump(
            issue,
            {
                "status": IssueStatus.SENT,
                "frozen_at": sent_at,
                "frozen_subject": subject,
                "frozen_html": html,
                "frozen_text": text,
                "sent_at": sent_at,
            },
        )


async def _audit(
    viewer: Viewer | None, action: str, issue: NewsletterIssue, **changes: Any
) -> None:
    from services.audit.service import record

    await record(viewer, action, issue, changes={k: [None, v] for k, v in changes.items()})


async def get_issue(viewer: Viewer, issue_id: int) -> NewsletterIssue:
    """An issue of any status (editors)."""
    authorize(viewer, "newsletter.compose")
    return await _get(issue_id)


async def _get(issue_id: int) -> NewsletterIssue:
    found = await NewsletterIssue.filter(id=issue_id).first()
    if found is None:
        raise NotFound("Numéro de newsletter introuvable.", field="id")
    return found


async def get_readable_issues_by_ids(
    viewer: Viewer, ids: Sequence[int]
) -> dict[int, NewsletterIssue]:
    """The issues among ``ids``, whatever their status, for those who compose newsletters
    (none otherwise: the public reads sent issues through the archive)."""
    if not is_allowed(viewer, "newsletter.compose"):
        return {}
    return {i.id: i for i in await NewsletterIssue.filter(id__in=list(ids))}


async def get_readable_templates_by_ids(
    viewer: Viewer, ids: Sequence[int]
) -> dict[int, NewsletterTemplate]:
    """The stored templates among ``ids``, for those who compose newsletters."""
    if not is_allowed(viewer, "newsletter.compose"):
        return {}
    return {t.id: t for t in await NewsletterTemplate.filter(id__in=list(ids))}


async def list_issues(
    viewer: Viewer, *, statuses: Sequence[str] = (), page: PageRequest
) -> Page[NewsletterIssue]:
    """Every issue, newest first (editors)."""
    authorize(viewer, "newsletter.compose")
    query = NewsletterIssue.all()
    if statuses:
        query = query.filter(status__in=list(statuses))
    return await paginate(query, ORDERING, page)


async def list_archive(*, page: PageRequest) -> Page[NewsletterIssue]:
    """Sent issues, newest first: the public archive."""
    return await paginate(
        NewsletterIssue.filter(status=IssueStatus.SENT, frozen_html__isnull=False),
        ARCHIVE_ORDERING,
        page,
    )


async def get_archived_issue(slug: str) -> NewsletterIssue | None:
    """A sent (or being sent) issue by slug, with its frozen content; None otherwise."""
    return await NewsletterIssue.filter(
        slug=slug, status__in=[IssueStatus.SENT, IssueStatus.SENDING], frozen_html__isnull=False
    ).first()


async def _editable(issue_id: int, version: int | None) -> NewsletterIssue:
    found = await NewsletterIssue.filter(id=issue_id).select_for_update().first()
    if found is None:
        raise NotFound("Numéro de newsletter introuvable.", field="id")
    if version is not None:
        check_version(found, version)
    if found.status not in EDITABLE:
        raise Conflict(f"Ce numéro n'est plus modifiable (état {found.status.value}).", field="id")
    return found


async def _bump(issue: NewsletterIssue, values: dict[str, Any]) -> NewsletterIssue:
    values = {**values, "version": issue.version + 1, "updated_at": now()}
    await NewsletterIssue.filter(id=issue.id).update(**values)
    await issue.refresh_from_db()
    return issue


async def update_issue(
    viewer: Viewer, issue_id: int, *, version: int, changes: IssueChanges
) -> NewsletterIssue:
    """Change the title, subject, introduction, variables, segment or template of a draft
    or scheduled issue."""
    authorize(viewer, "newsletter.compose")
    values = await _clean(changes)
    async with write_transaction():
        issue = await _editable(issue_id, version)
        issue = await _bump(issue, values)
        await _audit(viewer, "newsletter.update", issue, fields=sorted(values))
    return issue


async def list_items(issue_ids: Sequence[int]) -> dict[int, list[IssueItem]]:
    """Editors' item decisions per issue, in section order then position (one statement)."""
    rows = await IssueItem.filter(issue_id__in=list(issue_ids)).order_by("position", "id")
    found: dict[int, list[IssueItem]] = {}
    for row in rows:
        found.setdefault(row.issue_id, []).append(row)  # type: ignore[attr-defined]
    return found


def _section(section: SectionKind) -> SectionKind:
    if section not in ITEM_SECTIONS:
        raise BadUserInput(
            f"La section {section.value} ne contient pas d'éléments modifiables.", field="section"
        )
    return section


async def add_item(
    viewer: Viewer,
    issue_id: int,
    *,
    section: SectionKind,
    node_id: str,
    pinned: bool = False,
    cta: str | None = None,
) -> NewsletterIssue:
    """Put an item (any node: resource, event, concept…) in a section, after the others;
    ``cta``: the wording of its link (None: the section's; empty: no link)."""
    authorize(viewer, "newsletter.compose")
    problems = Problems()
    problems.check(lambda: _section(section))
    item = problems.check(lambda: clean_text(node_id, field="item", max_length=120))
    wording = cta
    if cta is not None:
        wording = problems.check(
            lambda: clean_text(cta, field="callToAction", max_length=200, required=False)
        )
    problems.raise_any()
    async with write_transaction():
        issue = await _editable(issue_id, None)
        last = await IssueItem.filter(issue_id=issue_id, section=section).order_by("-position")
        position = (last[0].position + 1) if last else 1
        await IssueItem.update_or_create(
            defaults={"position": position, "pinned": pinned, "removed": False, "cta": wording},
            issue_id=issue_id,
            section=section,
            node_id=item,
        )
        issue = await _bump(issue, {})
        await _audit(viewer, "newsletter.item_add", issue, item=item)
    return issue


async def pin_item(
    viewer: Viewer, issue_id: int, *, section: SectionKind, node_id: str, pinned: bool = True
) -> NewsletterIssue:
    """Pin an item at the top of its section (kept even if the query stops finding it)."""
    authorize(viewer, "newsletter.compose")
    _section(section)
    async with write_transaction():
        issue = await _editable(issue_id, None)
        await IssueItem.update_or_create(
            defaults={"pinned": pinned, "removed": False},
            issue_id=issue_id,
            section=section,
            node_id=node_id,
        )
        issue = await _bump(issue, {})
        await _audit(viewer, "newsletter.item_pin", issue, item=node_id)
    return issue


async def remove_item(
    viewer: Viewer, issue_id: int, *, section: SectionKind, node_id: str
) -> NewsletterIssue:
    """Leave an item out of a section, whether an editor added it or the query found it."""
    authorize(viewer, "newsletter.compose")
    _section(section)
    async with write_transaction():
        issue = await _editable(issue_id, None)
        await IssueItem.update_or_create(
            defaults={"removed": True, "pinned": False},
            issue_id=issue_id,
            section=section,
            node_id=node_id,
        )
        issue = await _bump(issue, {})
        await _audit(viewer, "newsletter.item_remove", issue, item=node_id)
    return issue


async def reorder_items(
    viewer: Viewer, issue_id: int, *, section: SectionKind, node_ids: Sequence[str]
) -> NewsletterIssue:
    """Put these items first in a section, in this order (the others follow)."""
    authorize(viewer, "newsletter.compose")
    problems = Problems()
    problems.check(lambda: _section(section))
    if len(set(node_ids)) != len(node_ids):
        problems.add(BadUserInput("Un élément apparaît deux fois.", field="items"))
    problems.raise_any()
    async with write_transaction():
        issue = await _editable(issue_id, None)
        for position, node_id in enumerate(node_ids, start=1):
            await IssueItem.update_or_create(
                defaults={"position": position, "removed": False},
                issue_id=issue_id,
                section=section,
                node_id=node_id,
            )
        issue = await _bump(issue, {})
        await _audit(viewer, "newsletter.item_reorder", issue, items=list(node_ids))
    return issue


async def schedule_issue(viewer: Viewer, issue_id: int, *, at: dt.datetime) -> NewsletterIssue:
    """Send the issue at ``at`` (the mailer worker starts it then). Call only after a
    successful composition: the GraphQL layer composes first and refuses on errors."""
    authorize(viewer, "newsletter.send")
    require_aware(at, field="at")
    async with write_transaction():
        issue = await _editable(issue_id, None)
        issue = await _bump(
            issue,
            {
                "status": IssueStatus.SCHEDULED,
                "scheduled_at": at,
                "scheduled_by_id": viewer.account_id,
            },
        )
        await _audit(viewer, "newsletter.schedule", issue, at=at.isoformat())
    return issue


async def cancel_issue(viewer: Viewer, issue_id: int) -> NewsletterIssue:
    """Cancel a scheduled issue (back to draft) or stop one being sent: the messages not
    sent yet are cancelled, those already sent stay sent."""
    from services.newsletters.queue import cancel_pending

    authorize(viewer, "newsletter.send")
    async with write_transaction():
        issue = await NewsletterIssue.filter(id=issue_id).select_for_update().first()
        if issue is None:
            raise NotFound("Numéro de newsletter introuvable.", field="id")
        if issue.status is IssueStatus.SCHEDULED:
            issue = await _bump(
                issue, {"status": IssueStatus.DRAFT, "scheduled_at": None, "scheduled_by_id": None}
            )
        elif issue.status is IssueStatus.SENDING:
            await cancel_pending(issue.id)
            issue = await _bump(issue, {"status": IssueStatus.CANCELLED, "sent_at": now()})
        else:
            raise Conflict(
                f"Seul un numéro programmé ou en cours d'envoi s'annule (état "
                f"{issue.status.value}).",
                field="id",
            )
        await _audit(viewer, "newsletter.cancel", issue)
    return issue


async def mark_sending(viewer: Viewer | None, issue_id: int) -> NewsletterIssue:
    """Check that an issue may start sending now (draft or scheduled), for ``tec``."""
    if viewer is not None:
        authorize(viewer, "newsletter.send")
    issue = await _get(issue_id)
    if issue.status not in (*EDITABLE, IssueStatus.SENDING):
        raise Conflict(f"Ce numéro a déjà été envoyé ou annulé ({issue.status.value}).")
    return issue


async def create_template(
    viewer: Viewer,
    *,
    name: str,
    document: str,
    mjml: str,
    text: str = "",
    sections: dict[str, str] | list[dict[str, Any]] | None = None,
    problems: Problems | None = None,
) -> NewsletterTemplate:
    """Store a template (a GraphQL document, MJML markup, optional text version, its
    sections: a list in their default order, or the older mapping of kinds to item
    paths). The GraphQL layer checks that it composes before calling this: ``problems``
    holds what it refused, reported with the refusals of the name and sections."""
    authorize(viewer, "newsletter.compose")
    problems = problems or Problems()
    cleaned = problems.check(lambda: clean_text(name, field="name", max_length=200))
    # Refuses unknown kinds, kinds given twice, bad fields.
    problems.check(lambda: declared_sections(sections))
    problems.raise_any()
    assert cleaned is not None
    name = cleaned
    async with write_transaction():
        template = await NewsletterTemplate.create(
            slug=await unique_slug(NewsletterTemplate, name),
            name=name,
            document=document,
            mjml=mjml,
            text=text,
            sections=sections or {},
        )
        await _audit(viewer, "newsletter.template_create", template)  # type: ignore[arg-type]
    return template


async def get_template(template_id: int | None) -> NewsletterTemplate | None:
    """The stored template, or None for the built-in default."""
    if template_id is None:
        return None
    return await NewsletterTemplate.filter(id=template_id).first()
