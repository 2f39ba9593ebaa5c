"""Building search documents from the database, and which documents a change touches.

Only what anonymous visitors may see is indexed: PUBLISHED content whose publication
time has come. Anything else (drafts, submitted contributions, rejected, archived,
scheduled, deleted) is a deletion for the index. Documents denormalise the names of the
themes, territories and organisations they show, so renaming one of those re-indexes
every document linked to it (``affected_documents``).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

from search.port import Document
from services.content import ContentStatus
from services.events.models import Event, EventOrganizer, EventTerritory, EventTheme
from services.resources.models import (
    Resource,
    ResourceOrganization,
    ResourceTerritory,
    ResourceTheme,
)
from services.viewer import ANONYMOUS, visible

PARIS = ZoneInfo("Europe/Paris")
RESOURCE = "resource"
EVENT = "event"
DOCUMENT_TYPES = (RESOURCE, EVENT)
LINKED_TYPES = ("theme", "territory", "organization")
"""Entities shown inside documents: a change to one re-indexes the documents linked."""

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_LINKS = {
    RESOURCE: {
        "themes": (ResourceTheme, "resource_id", "theme"),
        "territories": (ResourceTerritory, "resource_id", "territory"),
        "organizations": (ResourceOrganization, "resource_id", "organization"),
    },
    EVENT: {
        "themes": (EventTheme, "event_id", "theme"),
        "territories": (EventTerritory, "event_id", "territory"),
        "organizations": (EventOrganizer, "event_id", "organization"),
    },
}
_FIELD_OF_LINKED = {"theme": "themes", "territory": "territories", "organization": "organizations"}


def document_id(doc_type: str, pk: int) -> str:
    """Primary key of a document in every engine (Meilisearch allows ``a-z0-9-_``)."""
    return f"{doc_type}-{pk}"


def parse_document_id(value: str) -> tuple[str, int]:
    doc_type, _, pk = value.partition("-")
    return doc_type, int(pk)


def plain_text(markup: str) -> str:
    """Text of sanitised HTML, for indexing and snippets."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()


def is_indexable(row: Resource | Event, now: dt.datetime) -> bool:
    """What anonymous visitors see (as ``services.viewer.visible``): published, and its
    publication time has come (scheduled content waits)."""
    return row.status == ContentStatus.PUBLISHED and (
        row.published_at is None or row.published_at <= now
    )


def _indexable(now: dt.datetime) -> Q:
    return Q(status=ContentStatus.PUBLISHED) & (
        Q(published_at__isnull=True) | Q(published_at__lte=now)
    )


async def _links(doc_type: str, pks: Sequence[int]) -> dict[str, dict[int, list[tuple]]]:
    """For each link field, ``{document pk: [(linked id, display name), …]}``."""
    found: dict[str, dict[int, list[tuple]]] = {}
    for name, (model, parent, child) in _LINKS[doc_type].items():
        label = f"{child}__title" if child == "theme" else f"{child}__name"
        query = model.filter(**{f"{parent}__in": list(pks)})
        if child == "theme":
            # Unpublished themes are invisible to the public: neither a facet nor a word.
            query = query.filter(visible(ANONYMOUS, "theme__"))
        columns = [parent, f"{child}_id", label]
        if child == "organization":
            columns.append("organization__acronym")
        rows = await query.order_by(parent, f"{child}_id").values_list(*columns)
        by_parent: dict[int, list[tuple]] = defaultdict(list)
        for row in rows:
            by_parent[row[0]].append(tuple(row[1:]))
        found[name] = by_parent
    return found


def _build(
    doc_type: str, row: Resource | Event, links: dict[str, dict[int, list[tuple]]]
) -> Document:
    names: list[str] = []
    doc: Document = {
        "id": document_id(doc_type, row.id),
        "type": doc_type,
        "pk": row.id,
        "status": ContentStatus.PUBLISHED.value,
        "title": row.title,
    }
    for field, by_parent in links.items():
        linked = by_parent.get(row.id, [])
        doc[field] = [entry[0] for entry in linked]
        for entry in linked:
            names.extend(str(part) for part in entry[1:] if part)
    published = row.published_at or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    doc["date"] = int(published.timestamp())
    if isinstance(row, Resource):
        doc["text"] = " ".join(part for part in (row.summary, plain_text(row.body)) if part)
        doc["kind"] = row.kind.value
        doc["audience"] = row.audience.value
        doc["format"] = None
        doc["year"] = published.astimezone(PARIS).year
    else:
        doc["text"] = " ".join(part for part in (row.summary, row.city or "") if part)
        doc["kind"] = None
        doc["audience"] = None
        doc["format"] = row.format.value
        doc["year"] = row.starts_at.astimezone(PARIS).year
    doc["names"] = " · ".join(names)
    return doc


async def load_documents(
    doc_type: str, pks: Iterable[int], *, now: dt.datetime
) -> tuple[list[Document], list[str]]:
    """Current documents of these rows, and the ids to delete (rows gone or not visible)."""
    wanted = sorted(set(pks))
    model = Resource if doc_type == RESOURCE else Event
    rows = {r.id: r for r in await model.filter(id__in=wanted)} if wanted else {}
    visible = [rows[pk] for pk in wanted if pk in rows and is_indexable(rows[pk], now)]
    links = await _links(doc_type, [r.id for r in visible]) if visible else {}
    keep = {r.id for r in visible}
    documents = [_build(doc_type, r, links) for r in visible]
    deletions = [document_id(doc_type, pk) for pk in wanted if pk not in keep]
    return documents, deletions


async def affected_documents(entity_type: str, ids: Iterable[int]) -> dict[str, set[int]]:
    """Documents (by type) currently linked in the database to these themes, territories
    or organisations. Links deleted with the entity are found in the index instead
    (see ``search.consumer``)."""
    field = _FIELD_OF_LINKED[entity_type]
    wanted = list(set(ids))
    found: dict[str, set[int]] = {}
    for doc_type in DOCUMENT_TYPES:
        model, parent, child = _LINKS[doc_type][field]
        rows = await model.filter(**{f"{child}_id__in": wanted}).values_list(parent, flat=True)
        found[doc_type] = set(rows)
    return found


async def all_documents(
    *, now: dt.datetime, batch_size: int = 500
) -> AsyncIterator[list[Document]]:
    """Every indexable document, in batches (for a rebuild)."""
    for doc_type, model in ((RESOURCE, Resource), (EVENT, Event)):
        last = 0
        while True:
            pks = await (
                model.filter(_indexable(now), id__gt=last)
                .order_by("id")
                .limit(batch_size)
                .values_list("id", flat=True)
            )
            if not pks:
                break
            last = pks[-1]
            documents, _ = await load_documents(doc_type, pks, now=now)
            if documents:
                yield documents


async def count_indexable(*, now: dt.datetime) -> int:
    """How many documents a complete index holds."""
    total = 0
    for model in (Resource, Event):
        total += await model.filter(_indexable(now)).count()
    return total


async def published_between(start: dt.datetime, end: dt.datetime) -> dict[str, list[int]]:
    """Rows whose scheduled publication time fell in ``(start, end]``: no write marks
    that moment, so the consumer sweeps for them."""
    found: dict[str, list[int]] = {}
    for doc_type, model in ((RESOURCE, Resource), (EVENT, Event)):
        found[doc_type] = list(
            await model.filter(
                status=ContentStatus.PUBLISHED, published_at__gt=start, published_at__lte=end
            ).values_list("id", flat=True)
        )
    return found
