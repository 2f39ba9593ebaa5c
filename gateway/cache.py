"""The public response cache: whole GraphQL responses of public read-only queries.

What is cached: a ``query`` operation whose root fields are all public reads (those the
schema marks with :func:`schema.caching.public_read`), asked by an anonymous caller or a
partner's read-only API key, answered with 200 and no error. Nothing else (signed-in
people, keys that may contribute, mutations, editors' lists) goes near the cache.

Key: (document hash, operation name, variables, visibility, Accept). Visibility is
``public`` for anonymous callers; a read-only key shares it only when the document selects
none of the fields whose value depends on who asks — those the schema marks with
``@viewerDependent`` (:mod:`schema.directives`) — otherwise its entries are its own
(``key:<id>``).

Validity: an entry records what it read — the content types whose fields its document
selects (:class:`schema.caching.ReadSets`) — and is served only while none of them has
changed, and only until the next instant when content changes by the clock alone (a
scheduled publication, a voting round opening or closing), capped by ``TEC_CACHE_TTL``.
Every request reads the content version from the database (the audit log's head: one
cheap statement). When it moved, the process reads the audit rows it has not seen yet,
each naming the model of the row a committed write changed, and the registry says which
content types' answers that write can change (:func:`services.audit.version.tags_of_write`):
the process moves its counter of each, and an entry is valid while the counters of what
it read are those it was computed under. A root lookup by slug reads one object: the
row holding the slug when the answer is computed (a write names its row), or, when none
does, its whole type. So no process serves a stale answer after any committed write,
through whichever process it came, and a write drops only the entries it can affect:
editing an organisation keeps a cached list of events that selects none of their
organisers, and the pages of the other organisations.

HTTP: cached answers carry an ``ETag`` and ``Cache-Control``; a GET with a matching
``If-None-Match`` gets ``304 Not Modified``, so a CDN can revalidate cheaply.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from starlette.requests import Request
from starlette.responses import Response

from gateway.guards import Operation
from gateway.persisted import document_hash
from schema.caching import ANY, INDEX, Lookup, ReadSets
from services.audit.version import (
    WINDOW,
    ContentChange,
    find_content_id,
    get_content_version,
    get_next_scheduled_change,
    list_changes,
)
from services.clock import Clock, system_clock
from services.settings import CacheSettings
from services.viewer import Role, Viewer

_ANALYSIS_SIZE = 1024


ALL = "@all"
"""Read by every entry: moved by a write whose effects nothing narrows down (a deletion,
which the database cascades; a write to a model of no content type)."""

# More unseen audit rows than this at once (a bulk import while this process slept): every
# entry is dropped rather than each row read.
_BATCH = 2 * WINDOW


# Objects are counted in this many groups per content type: a write to one row also ends
# the entries of the rows that share its group, which bounds the counters a process keeps.
_OBJECT_GROUPS = 4096


def _object_tag(type_name: str, pk: int) -> str:
    return f"{type_name}#{pk % _OBJECT_GROUPS}"


def _rows_tag(type_name: str) -> str:
    """Moved by a write that changes rows of the type without saying which."""
    return f"{type_name}#"


@dataclass(frozen=True)
class _Analysis:
    cacheable: bool
    viewer_dependent: bool = False
    reads: tuple[str, ...] = (ALL, ANY)
    """The tags an answer depends on, sorted, :data:`ALL` among them; a lookup's object
    stands as its :attr:`~schema.caching.Lookup.tag`."""
    lookups: tuple[Lookup, ...] = ()


@dataclass
class _Entry:
    body: bytes
    media_type: str
    etag: str
    reads: tuple[str, ...]
    stamp: tuple[int, ...]
    """The counters of ``reads`` when the answer was computed."""
    expires: float


class _Changes:
    """This process's account of committed writes: a counter per tag (content type name,
    :data:`schema.caching.INDEX`, :data:`ANY`, :data:`ALL`), moved by each write the
    audit log shows, so that an answer is valid while the counters of what it read hold.

    The audit log is read from the last row seen; a transaction that took a lower id and
    commits later (PostgreSQL hands out ids at insert time) changes the count of rows
    below the head that the content version carries, and the rows of that window are then
    read again to find it."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self._head: tuple[int, int, int] | None = None
        self._top: int | None = None
        self._known: set[int] = set()
        self._lag: int | None = None
        self._lock = asyncio.Lock()

    def stamp(self, reads: tuple[str, ...]) -> tuple[int, ...]:
        counters = self.counters
        return tuple(counters.get(tag, 0) for tag in reads)

    async def observe(self, version: tuple[int, int, int]) -> set[str] | None:
        """Account for the writes ``version`` (read from the database) covers: the tags
        that moved; None when the version is the one last accounted for."""
        if version == self._head:
            return None
        async with self._lock:
            if version == self._head:
                return None
            moved = await self._reconcile(version)
            self._head = version
            for tag in moved:
                self.counters[tag] = self.counters.get(tag, 0) + 1
            if moved:
                self.counters[ANY] = self.counters.get(ANY, 0) + 1
        return moved

    async def _reconcile(self, version: tuple[int, int, int]) -> set[str]:
        top, count, lag = version
        moved: set[str] = set()
        if lag != self._lag:
            moved.add(INDEX)
            self._lag = lag
        if self._top is None:
            self._top = max(0, top - WINDOW)
        if top > self._top:
            changes = await list_changes(above=self._top, limit=_BATCH)
            if len(changes) >= _BATCH:
                moved.add(ALL)
                self._top = max(top, changes[-1].id)
                self._known.clear()
            else:
                self._apply(changes, moved)
        low = top - WINDOW
        seen = {pk for pk in self._known if low < pk <= top}
        if len(seen) != count:
            # A write below the head committed late (or rows left the window): read the
            # window again.
            window = await list_changes(above=low, up_to=top, limit=WINDOW + 1)
            self._known -= seen
            self._apply([c for c in window if c.id not in seen], moved)
            self._known |= {c.id for c in window}
        assert self._top is not None
        if len(self._known) > 2 * WINDOW:
            self._known = {pk for pk in self._known if pk > self._top - 2 * WINDOW}
        return moved

    def _apply(self, changes: list[ContentChange], moved: set[str]) -> None:
        for change in changes:
            if change.id in self._known:
                continue
            self._known.add(change.id)
            self._top = max(self._top or 0, change.id)
            if change.tags is None:
                moved.add(ALL)
                continue
            for tag in change.tags:
                moved.add(tag)
                if change.row is not None and change.row[0] == tag:
                    moved.add(_object_tag(tag, change.row[1]))
                else:
                    moved.add(_rows_tag(tag))


def _fields(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> list[FieldNode]:
    """The fields of a selection set, fragments flattened (each fragment once)."""
    found: list[FieldNode] = []
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found.extend(_fields(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in seen and name in fragments:
                seen.add(name)
                found.extend(_fields(fragments[name].selection_set, fragments, seen))
    return found


def _all_field_names(document: DocumentNode) -> set[str]:
    names: set[str] = set()
    stack: list[SelectionSetNode | None] = [
        d.selection_set
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while stack:
        selection_set = stack.pop()
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            stack.append(getattr(selection, "selection_set", None))
    return names


def analyse(
    document: DocumentNode,
    operation_name: str | None,
    *,
    cacheable_roots: frozenset[str],
    viewer_dependent: frozenset[str],
    read_sets: ReadSets | None = None,
) -> _Analysis:
    """Whether a document may be cached, whether it selects viewer-dependent fields, and
    what its answers read (everything, without ``read_sets``)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return _Analysis(False)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    roots = _fields(operations[0].selection_set, fragments, set())
    if not roots or any(f.name.value not in cacheable_roots for f in roots):
        return _Analysis(False)
    dependent = bool(_all_field_names(document) & viewer_dependent)
    if read_sets is None:
        return _Analysis(True, viewer_dependent=dependent)
    reads = read_sets.reads(document, operation_name)
    return _Analysis(
        True,
        viewer_dependent=dependent,
        reads=tuple(sorted({ALL, *reads.tags})),
        lookups=reads.lookups,
    )


def _is_read_only_key(viewer: Viewer) -> bool:
    return (
        viewer.role == Role.PARTNER
        and viewer.api_key_id is not None
        and viewer.account_id is None
        and viewer.scopes == frozenset({"READ"})
    )


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


class ResponseCache:
    """In-process LRU of whole responses, each valid while what it read is unchanged.

    Each process has its own entries; they are correct across processes because every
    request reads the version from the database, and the writes it covers, before
    answering from them."""

    def __init__(
        self,
        settings: CacheSettings,
        *,
        cacheable_roots: frozenset[str],
        viewer_dependent: frozenset[str],
        read_sets: ReadSets | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.clock = clock
        self.cacheable_roots = cacheable_roots
        self.viewer_dependent = viewer_dependent
        self.read_sets = read_sets
        self.max_entries = settings.cache_max_entries
        self.max_entry_bytes = settings.cache_max_entry_bytes
        self.ttl = settings.cache_ttl
        self.max_age = settings.cache_max_age
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._analyses: OrderedDict[tuple[str, str | None], _Analysis] = OrderedDict()
        self._inflight: dict[tuple[Any, ...], asyncio.Future[_Entry | None]] = {}
        self._changes = _Changes()
        self._boundary = 0.0  # epoch seconds of the next scheduled change (inf: none)
        self.hits = 0
        self.misses = 0

    def _analysis(self, operation: Operation) -> _Analysis:
        key = (operation.query or "", operation.operation_name)
        found = self._analyses.get(key)
        if found is None:
            if operation.document is None:
                return _Analysis(False)
            found = analyse(
                operation.document,
                operation.operation_name,
                cacheable_roots=self.cacheable_roots,
                viewer_dependent=self.viewer_dependent,
                read_sets=self.read_sets,
            )
            self._analyses[key] = found
            if len(self._analyses) > _ANALYSIS_SIZE:
                self._analyses.popitem(last=False)
        return found

    def visibility(self, operation: Operation, viewer: Viewer) -> str | None:
        """The visibility part of the key, or None when this request is not cacheable."""
        if operation.query is None:
            return None
        if viewer.role == Role.ANONYMOUS and viewer.api_key_id is None:
            analysis = self._analysis(operation)
            return "public" if analysis.cacheable else None
        if _is_read_only_key(viewer):
            analysis = self._analysis(operation)
            if not analysis.cacheable:
                return None
            return f"key:{viewer.api_key_id}" if analysis.viewer_dependent else "public"
        return None

    async def _observe(self, version: tuple[int, int, int], now: float) -> None:
        """Account for the writes the version covers, dropping the entries they may
        change; find the next scheduled change."""
        moved = await self._changes.observe(version)
        if moved is not None:
            self._boundary = 0.0  # a write may have scheduled a publication
            if ALL in moved:
                self._entries.clear()
            elif moved:
                for key in [k for k, e in self._entries.items() if moved.intersection(e.reads)]:
                    del self._entries[key]
        if now >= self._boundary:
            nxt = await get_next_scheduled_change(dt.datetime.fromtimestamp(now, dt.UTC))
            self._boundary = nxt.timestamp() if nxt is not None else float("inf")

    def _store(self, key: tuple[Any, ...], entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def serve(
        self,
        request: Request,
        params: Operation,
        visibility: str,
        run: Callable[[Request], Awaitable[Response]],
    ) -> Response:
        """Answer from the cache, or run the request and keep its answer."""
        version = await get_content_version()
        now = self.clock().timestamp()
        await self._observe(version, now)
        variables = json.dumps(params.variables, sort_keys=True, separators=(",", ":"))
        key = (
            document_hash(params.query or ""),
            params.operation_name,
            variables,
            visibility,
            request.headers.get("accept", ""),
        )
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry.stamp == self._changes.stamp(entry.reads)
            and entry.expires > now
        ):
            self.hits += 1
            self._entries.move_to_end(key)
            return self._respond(request, entry, visibility, now, hit=True)
        reads = await self._reads(self._analysis(params), params)
        stamp = self._changes.stamp(reads)
        # Identical misses while what they read holds wait for the first one's answer.
        inflight_key = (*key, reads, stamp)
        pending = self._inflight.get(inflight_key)
        if pending is not None:
            shared = await asyncio.shield(pending)
            if shared is not None:
                self.hits += 1
                return self._respond(
                    request, shared, visibility, self.clock().timestamp(), hit=True
                )
            return await run(request)
        self.misses += 1
        future: asyncio.Future[_Entry | None] = asyncio.get_running_loop().create_future()
        self._inflight[inflight_key] = future
        entry = None
        try:
            response = await run(request)
            body = bytes(response.body) if hasattr(response, "body") else b""
            if (
                response.status_code == 200
                and body
                and b'"errors":' not in body
                and len(body) <= self.max_entry_bytes
            ):
                entry = _Entry(
                    body=body,
                    media_type=response.headers.get("content-type", "application/json"),
                    etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
                    reads=reads,
                    stamp=stamp,
                    expires=min(now + self.ttl, self._boundary),
                )
                if self._changes.stamp(reads) == stamp:  # nothing it read moved meanwhile
                    self._store(key, entry)
        finally:
            future.set_result(entry)
            del self._inflight[inflight_key]
        if entry is None:
            return response
        return self._respond(request, entry, visibility, now, hit=False)

    async def _reads(self, analysis: _Analysis, params: Operation) -> tuple[str, ...]:
        """The tags this request's answer reads: each lookup by slug reads the row holding
        the slug now (found before the answer is computed, so a write to it after this
        point moves its counter), or, when none does, every row of its type (one may take
        the slug)."""
        if not analysis.lookups:
            return analysis.reads
        reads = set(analysis.reads)
        variables = params.variables or {}
        for lookup in analysis.lookups:
            reads.discard(lookup.tag)
            slug = lookup.slug if lookup.variable is None else variables.get(lookup.variable)
            pk = await find_content_id(lookup.type_name, slug) if isinstance(slug, str) else None
            if pk is None:
                reads.add(lookup.type_name)
            else:
                reads.update((_object_tag(lookup.type_name, pk), _rows_tag(lookup.type_name)))
        return tuple(sorted(reads))

    def _respond(
        self, request: Request, entry: _Entry, visibility: str, now: float, *, hit: bool
    ) -> Response:
        if visibility == "public":
            max_age = int(max(0, min(self.max_age, entry.expires - now)))
            control = f"public, max-age={max_age}"
            if max_age == 0:
                control += ", must-revalidate"
        else:
            control = "private, no-store"  # private data: never kept by a shared cache
        headers = {
            "ETag": entry.etag,
            "Cache-Control": control,
            "Vary": "Accept, Authorization",
            "X-TEC-Cache": "hit" if hit else "miss",
        }
        if request.method == "GET" and _etag_matches(
            request.headers.get("if-none-match", ""), entry.etag
        ):
            return Response(status_code=304, headers=headers)
        return Response(
            entry.body,
            media_type=None,
            headers={
                **headers,
                "Content-Type": entry.media_type,
            },
        )
