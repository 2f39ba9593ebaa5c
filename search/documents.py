"""Building search documents from the database, and which documents a change touches.

Which content types are searchable, and what their documents hold, is declared once per
type in ``search/indexed/<type>.py`` (:func:`register_search`); everything here works
from those declarations.

Only what anonymous visitors may see is indexed: PUBLISHED content whose publication
time has come. Anything else (drafts, submitted contributions, rejected, archived,
scheduled, deleted) is a deletion for the index. Documents denormalise the names of the
themes, territories and organisations they show, so renaming one of those re-indexes
every document linked to it (``affected_documents``).
"""

from __future__ import annotations

import datetime as dt
import html
import importlib
import pkgutil
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.models import Model

from search.port import LABELLED, Document, Facet, encode_label, label_field
from services import registry as services_registry
from services.content import ContentStatus
from services.registry import ContentType
from services.viewer import ANONYMOUS, visible

PARIS = ZoneInfo("Europe/Paris")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_NAMES = {"theme": "title", "territory": "name", "organization": "name"}


@dataclass(frozen=True)
class LinkedFacet:
    """A facet of documents made from a link table: the ids of the linked rows, and their
    names among the words a document is found by."""

    table: type[Model]
    parent: str
    """The link table's column of the document's row (``resource_id`` without ``_id``)."""
    linked: str
    """What is linked: ``theme``, ``territory`` or ``organization``."""


Fill = Callable[[Any, Document], None]
Parents = Callable[[list[int]], Awaitable[list[int]]]


def is_indexable(row: Any, now: dt.datetime) -> bool:
    """What anonymous visitors see (as ``services.viewer.visible``): published, and its
    publication time has come (scheduled content waits)."""
    return row.status == ContentStatus.PUBLISHED and (
        row.published_at is None or row.published_at <= now
    )


def _indexable(now: dt.datetime) -> Q:
    return Q(status=ContentStatus.PUBLISHED) & (
        Q(published_at__isnull=True) | Q(published_at__lte=now)
    )


@dataclass(frozen=True)
class Visibility:
    """Which rows of a type anonymous visitors see, as a condition and as a test of a
    loaded row (both must agree)."""

    where: Callable[[dt.datetime], Q]
    check: Callable[[Any, dt.datetime], bool]
    scheduled: bool
    """Rows carry a publication time the consumer sweeps for (``published_at``)."""


PUBLISHED = Visibility(_indexable, is_indexable, scheduled=True)
"""Editorial content: published, publication time come."""
ALWAYS = Visibility(lambda _now: Q(), lambda _row, _now: True, scheduled=False)
"""Rows that are public as soon as they exist (organisations)."""


@dataclass(frozen=True)
class Searchable:
    """A content type whose visible rows are search documents."""

    content: ContentType
    facets: dict[str, LinkedFacet]
    """Facet field (``themes``) → where its values come from."""
    fill: Fill
    """Sets the type's own fields of a document: ``text``, ``kind``, ``audience``,
    ``format``, ``year``, and facet values of its own (a theme is in its own theme)."""
    visibility: Visibility = PUBLISHED
    title: Callable[[Any], str] = lambda row: row.title
    """The document's title (an organisation's name and acronym)."""
    parents: dict[str, Parents] = field(default_factory=dict)
    """Other entities whose change re-indexes documents of this type: entity type →
    the ids of the documents concerned (a membership → its shared project)."""

    @property
    def doc_type(self) -> str:
        return self.content.entity


_SEARCHABLE: dict[str, Searchable] = {}
_discovered = False


def register_search(searchable: Searchable) -> Searchable:
    """Index the rows of ``searchable.content`` (declared in ``search/indexed/<type>.py``)."""
    _SEARCHABLE[searchable.doc_type] = searchable
    return searchable


def forget_search(doc_type: str) -> None:
    """Remove a searchable type (tests that register throwaway types)."""
    _SEARCHABLE.pop(doc_type, None)


def searchable_types() -> dict[str, Searchable]:
    """``{document type: searchable}``, every module of ``search.indexed`` imported once."""
    global _discovered
    if not _discovered:
        import search.indexed

        # The content types first, in the services registry's own order: importing them
        # from here instead would change the order policies and docs are listed in.
        services_registry.discover()

        for module in pkgutil.iter_modules(search.indexed.__path__):
            importlib.import_module(f"search.indexed.{module.name}")
        _discovered = True
    return dict(_SEARCHABLE)


def document_types() -> tuple[str, ...]:
    """The ``type`` of every kind of document (``resource``, ``event``…)."""
    return tuple(searchable_types())


def linked_types() -> tuple[str, ...]:
    """Entities shown inside documents: a change to one re-indexes the documents linked."""
    return tuple(sorted({f.linked for s in searchable_types().values() for f in s.facets.values()}))


def document_id(doc_type: str, pk: int) -> str:
    """Primary key of a document in every engine (Meilisearch allows ``a-z0-9-_``)."""
    return f"{doc_type}-{pk}"


def parse_document_id(value: str) -> tuple[str, int]:
    doc_type, _, pk = value.partition("-")
    return doc_type, int(pk)


def plain_text(markup: str) -> str:
    """Text of sanitised HTML, for indexing and snippets."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()


async def _links(searchable: Searchable, pks: Sequence[int]) -> dict[str, dict[int, list[tuple]]]:
    """For each facet, ``{document pk: [(linked id, display name), …]}``."""
    found: dict[str, dict[int, list[tuple]]] = {}
    for name, facet in searchable.facets.items():
        model, parent, child = facet.table, facet.parent, facet.linked
        label = f"{child}__{_NAMES[child]}"
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


def _build(searchable: Searchable, row: Any, links: dict[str, dict[int, list[tuple]]]) -> Document:
    names: list[str] = []
    doc: Document = {
        "id": document_id(searchable.doc_type, row.id),
        "type": searchable.doc_type,
        "pk": row.id,
        "status": ContentStatus.PUBLISHED.value,
        "title": searchable.title(row),
        "kind": None,
        "audience": None,
        "format": None,
        "themes": [],
        "territories": [],
        "organizations": [],
    }
    labels: dict[str, dict[int, str]] = {}
    for facet in searchable.facets:
        linked = links.get(facet, {}).get(row.id, [])
        doc[facet] = [entry[0] for entry in linked]
        labels[facet] = {entry[0]: str(entry[1]) for entry in linked if entry[1]}
        for entry in linked:
            names.extend(str(part) for part in entry[1:] if part)
    published = (
        getattr(row, "published_at", None)
        or getattr(row, "created_at", None)
        or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    )
    doc["date"] = int(published.timestamp())
    doc["year"] = published.astimezone(PARIS).year
    searchable.fill(row, doc)
    doc["names"] = " · ".join(names)
    for facet in LABELLED:
        known = labels.get(facet.value, {})
        doc[label_field(facet)] = [
            encode_label(pk, known[pk]) for pk in doc[facet.value] if pk in known
        ]
    return doc


async def get_facet_labels(facet: Facet, ids: Sequence[int]) -> dict[int, str]:
    """Display names of theme, territory or organisation facet values (one statement);
    unpublished themes are left out, so they never show as a facet value."""
    from services.organizations.models import Organization
    from services.territories.models import Territory
    from services.themes.models import Theme

    if not ids:
        return {}
    if facet is Facet.THEME:
        query = Theme.filter(visible(ANONYMOUS), id__in=list(ids)).values_list("id", "title")
    elif facet is Facet.TERRITORY:
        query = Territory.filter(id__in=list(ids)).values_list("id", "name")
    elif facet is Facet.ORGANIZATION:
        query = Organization.filter(id__in=list(ids)).values_list("id", "name")
    else:
        raise ValueError(f"{facet.name} values have no names in the database")
    return {pk: name for pk, name in await query}


async def _label_own_values(documents: list[Document]) -> None:
    """Labels of the facet values a type sets itself (a theme in its own facet, a shared
    project's theme), which no link table named: one statement per facet, for the batch."""
    for facet in LABELLED:
        field = label_field(facet)
        unlabelled = {
            id(doc): set(doc[facet.value]) - {int(v.partition(":")[0]) for v in doc[field]}
            for doc in documents
        }
        missing = sorted(set().union(*unlabelled.values()))
        if not missing:
            continue
        names = await get_facet_labels(facet, missing)
        for doc in documents:
            wanted = unlabelled[id(doc)]
            known = {int(v.partition(":")[0]): v for v in doc[field]}
            known.update({pk: encode_label(pk, names[pk]) for pk in wanted if pk in names})
            doc[field] = [known[pk] for pk in doc[facet.value] if pk in known]


async def load_documents(
    doc_type: str, pks: Iterable[int], *, now: dt.datetime
) -> tuple[list[Document], list[str]]:
    """Current documents of these rows, and the ids to delete (rows gone or not visible)."""
    searchable = searchable_types()[doc_type]
    wanted = sorted(set(pks))
    model = searchable.content.model
    rows = {r.id: r for r in await model.filter(id__in=wanted)} if wanted else {}
    check = searchable.visibility.check
    visible = [rows[pk] for pk in wanted if pk in rows and check(rows[pk], now)]
    links = await _links(searchable, [r.id for r in visible]) if visible else {}
    keep = {r.id for r in visible}
    documents = [_build(searchable, r, links) for r in visible]
    await _label_own_values(documents)
    deletions = [document_id(doc_type, pk) for pk in wanted if pk not in keep]
    return documents, deletions


def parent_types() -> tuple[str, ...]:
    """Entities whose change re-indexes the documents they belong to (memberships)."""
    return tuple(sorted({p for s in searchable_types().values() for p in s.parents}))


async def affected_documents(entity_type: str, ids: Iterable[int]) -> dict[str, set[int]]:
    """Documents (by type) currently linked in the database to these themes, territories
    or organisations, or that these rows belong to (a membership's project). Links
    deleted with the entity are found in the index instead (see ``search.consumer``)."""
    wanted = list(set(ids))
    found: dict[str, set[int]] = {}
    for doc_type, searchable in searchable_types().items():
        parents = searchable.parents.get(entity_type)
        if parents is not None:
            found.setdefault(doc_type, set()).update(await parents(wanted))
        for facet in searchable.facets.values():
            if facet.linked != entity_type:
                continue
            rows = await facet.table.filter(**{f"{facet.linked}_id__in": wanted}).values_list(
                facet.parent, flat=True
            )
            found.setdefault(doc_type, set()).update(rows)
    return found


async def all_documents(
    *, now: dt.datetime, batch_size: int = 500
) -> AsyncIterator[list[Document]]:
    """Every indexable document, in batches (for a rebuild)."""
    for doc_type, searchable in searchable_types().items():
        model = searchable.content.model
        last = 0
        while True:
            pks = await (
                model.filter(searchable.visibility.where(now), id__gt=last)
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
    for searchable in searchable_types().values():
        total += await searchable.content.model.filter(searchable.visibility.where(now)).count()
    return total


async def published_between(start: dt.datetime, end: dt.datetime) -> dict[str, list[int]]:
    """Rows whose scheduled publication time fell in ``(start, end]``: no write marks
    that moment, so the consumer sweeps for them."""
    found: dict[str, list[int]] = {}
    for doc_type, searchable in searchable_types().items():
        if not searchable.visibility.scheduled:
            continue
        found[doc_type] = list(
            await searchable.content.model.filter(
                status=ContentStatus.PUBLISHED, published_at__gt=start, published_at__lte=end
            ).values_list("id", flat=True)
        )
    return found
