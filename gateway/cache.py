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

Validity: an entry holds the content version it was computed under (the audit log's head,
read from the database on every request: one cheap statement) and is served only while the
version is unchanged — so no process serves a stale answer after any committed write —
and only until the next instant when content changes by the clock alone (a scheduled
publication, a voting round opening or closing), capped by ``TEC_CACHE_TTL``.

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
from services.audit.version import get_content_version, get_next_scheduled_change
from services.clock import Clock, system_clock
from services.settings import CacheSettings
from services.viewer import Role, Viewer

_ANALYSIS_SIZE = 1024


@dataclass(frozen=True)
class _Analysis:
    cacheable: bool
    viewer_dependent: bool = False


@dataclass
class _Entry:
    body: bytes
    media_type: str
    etag: str
    version: tuple[int, int, int]
    expires: float


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
) -> _Analysis:
    """Whether a document may be cached, and whether it selects viewer-dependent fields."""
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
    return _Analysis(True, viewer_dependent=dependent)


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
    """In-process LRU of whole responses, valid while the database's content version holds.

    Each process has its own entries; they are correct across processes because every
    request reads the version from the database before answering from them."""

    def __init__(
        self,
        settings: CacheSettings,
        *,
        cacheable_roots: frozenset[str],
        viewer_dependent: frozenset[str],
        clock: Clock = system_clock,
    ) -> None:
        self.clock = clock
        self.cacheable_roots = cacheable_roots
        self.viewer_dependent = viewer_dependent
        self.max_entries = settings.cache_max_entries
        self.max_entry_bytes = settings.cache_max_entry_bytes
        self.ttl = settings.cache_ttl
        self.max_age = settings.cache_max_age
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._analyses: OrderedDict[tuple[str, str | None], _Analysis] = OrderedDict()
        self._inflight: dict[tuple[Any, ...], asyncio.Future[_Entry | None]] = {}
        self._version: tuple[int, int, int] | None = None
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
        """Forget older entries when the version moves; find the next scheduled change."""
        if version != self._version:
            if self._version is None or version > self._version:
                self._entries.clear()
                self._version = version
                self._boundary = 0.0
            else:
                return  # a slower request read an older version: leave the newer state
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
        if entry is not None and entry.version == version and entry.expires > now:
            self.hits += 1
            self._entries.move_to_end(key)
            return self._respond(request, entry, visibility, now, hit=True)
        # Identical misses under the same version wait for the first one's answer.
        inflight_key = (*key, version)
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
                    version=version,
                    expires=min(now + self.ttl, self._boundary),
                )
                if version == self._version:
                    self._store(key, entry)
        finally:
            future.set_result(entry)
            del self._inflight[inflight_key]
        if entry is None:
            return response
        return self._respond(request, entry, visibility, now, hit=False)

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
