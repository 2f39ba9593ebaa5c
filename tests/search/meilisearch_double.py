"""A test double of Meilisearch v1.11 that models what the adapter relies on, served over
real HTTP on loopback (uvicorn in the test's event loop; the adapter keeps the SDK's own
HTTP client).

No Meilisearch server runs on the test machines, so the behaviours below follow the
server's source at tag v1.11.3 (github.com/meilisearch/meilisearch, commit
cfaac6f7ca55e91ec3cf40f8682f528cd8743562), each citing the file it follows. What the
double does not model (typos, stop words, synonyms, accents, proximity, the
``attribute`` and ``exactness`` rules) is left to the contract suite against a real
server (``TEC_MEILI_URL``): the adapter must not rely on them for what it promises
(an exact title first, inclusive forms), and the double makes sure it does not.

Assumptions the adapter's tests rest on, with the source each follows:

- words are what separators delimit, the settings' ``separatorTokens`` included, and a
  stop word keeps its position (milli ``update/index_documents/extract/
  extract_docid_word_positions.rs``, ``process_tokens``): « élu·e·s » is « élu », « e »,
  « s »; every query word must be in a searchable attribute, the last one as a prefix
  unless a space follows it (``matchingStrategy: all``; ``search/new/query_term/
  parse_query.rs``: a word is a prefix when it is the query's last token);
- ``=``, ``!=`` and ``IN`` filters; ``!=`` also finds documents without the attribute
  (``search/facet/filter.rs``, ``Condition::NotEqual``);
- ``GET /settings`` answers every setting, defaults filled in, sets sorted; a PATCH
  changes only the settings it names, and within typo tolerance, faceting and pagination
  only the fields it names (meilisearch-types ``settings.rs``);
- the rest is described where it is modelled below.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Callable
from typing import Any

import httpx2
import uvicorn

NOW = "2026-01-01T00:00:00.000000Z"

# milli/src/criterion.rs, ``Criterion::from_str``: the six built-in rules, or
# ``attribute:asc|desc`` on any attribute.
BUILT_IN_RULES = ("words", "typo", "proximity", "attribute", "sort", "exactness")
_CUSTOM_RULE = re.compile(r"^[A-Za-z0-9_.-]+:(asc|desc)$")
# meilisearch-types/src/settings.rs: ``DEFAULT_PAGINATION_MAX_TOTAL_HITS``.
DEFAULT_MAX_TOTAL_HITS = 1000
# meilisearch-types/src/settings.rs: ``Settings`` is deserialised with
# ``deny_unknown_fields``; these are the fields the adapter may send.
KNOWN_SETTINGS = {
    "displayedAttributes",
    "searchableAttributes",
    "filterableAttributes",
    "sortableAttributes",
    "rankingRules",
    "stopWords",
    "nonSeparatorTokens",
    "separatorTokens",
    "dictionary",
    "synonyms",
    "distinctAttribute",
    "proximityPrecision",
    "typoTolerance",
    "faceting",
    "pagination",
    "embedders",
    "searchCutoffMs",
    "localizedAttributes",
}
_FILTER = re.compile(r"^(\w+) IN \[(.*)\]$")
_COMPARISON = re.compile(r'^(\w+) (=|!=) (".*")$')
# meilisearch-types/src/settings.rs: ``Settings`` keeps these as ``BTreeSet<String>``, so
# ``GET /settings`` answers them sorted and without duplicates.
SET_SETTINGS = (
    "filterableAttributes",
    "sortableAttributes",
    "stopWords",
    "nonSeparatorTokens",
    "separatorTokens",
    "dictionary",
)
# The same file: typo tolerance, faceting and pagination are settings of their own fields
# (``Setting<…>`` each): a field a PATCH does not name keeps its value.
NESTED_SETTINGS = ("typoTolerance", "faceting", "pagination")
_WORD = re.compile(r"\w+")


def _holds_words(
    document: dict[str, Any], searchable: list[str], query: str, separators: list[str]
) -> bool:
    """Whether the searchable attributes hold every query word, the last one as a prefix
    (milli/src/search/new/query_term/parse_query.rs: « if the word is the last token of
    the query we push it as a prefix word »: a trailing space is a token, so the word
    before it is whole); only ``searchableAttributes`` are searched
    (milli/src/search/new/mod.rs, ``searchable_fields_ids``). Not modelled: typos, stop
    words, synonyms, accents (charabia's normalisation), proximity."""
    names = list(document) if searchable == ["*"] else searchable
    prefix = not query.endswith(tuple(" \t\n"))  # a word followed by a space is whole
    text = " ".join(str(document.get(n) or "") for n in names).lower()
    for separator in separators:
        text = text.replace(separator, " ")
    present = set(_WORD.findall(text))
    words = _WORD.findall(query.lower())
    if not words:
        return True
    *whole, last = words if prefix else [*words, ""]
    return all(w in present for w in whole) and any(p.startswith(last) for p in present)


def _error(status: int, code: str, message: str) -> httpx2.Response:
    """meilisearch-types/src/error.rs: ``ResponseError`` — message, code, type, link."""
    return httpx2.Response(
        status,
        json={
            "message": message,
            "code": code,
            "type": "invalid_request",
            "link": f"https://docs.meilisearch.com/errors#{code}",
        },
    )


class Index:
    def __init__(self, uid: str) -> None:
        self.uid = uid
        self.documents: dict[str, dict[str, Any]] = {}
        # meilisearch-types/src/settings.rs (``settings``: every field, defaults
        # included, is what ``GET /settings`` answers) and milli/src/criterion.rs.
        self.settings: dict[str, Any] = {
            "displayedAttributes": ["*"],
            "searchableAttributes": ["*"],
            "filterableAttributes": [],
            "sortableAttributes": [],
            "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness"],
            "stopWords": [],
            "nonSeparatorTokens": [],
            "separatorTokens": [],
            "dictionary": [],
            "synonyms": {},
            "distinctAttribute": None,
            "proximityPrecision": "byWord",
            "typoTolerance": {
                "enabled": True,
                "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
                "disableOnWords": [],
                "disableOnAttributes": [],
            },
            "faceting": {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "alpha"}},
            "pagination": {"maxTotalHits": DEFAULT_MAX_TOTAL_HITS},
            "embedders": {},
            "searchCutoffMs": None,
            "localizedAttributes": None,
        }


class FakeMeilisearch:
    """Answers like Meilisearch v1.11 for the routes the adapter uses; records requests.

    Tasks (index-scheduler/src/lib.rs; statuses in meilisearch-types/src/tasks.rs,
    ``Status``): every write answers 202 with an ``enqueued`` task; the scheduler moves
    it to ``processing`` then ``succeeded`` or ``failed``, one step each time the task is
    polled (so the adapter must wait); ``cancel(uid)`` cancels a task that has not
    finished, as ``POST /tasks/cancel`` does (index-scheduler/src/batch.rs,
    ``cancel_matched_tasks``). Settings are validated when the request arrives (400,
    deserr), what needs the index when the task runs (``failed`` with the code).
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.authorizations: set[str | None] = set()
        self.indexes: dict[str, Index] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self._apply: dict[int, Callable[[], dict[str, Any] | None]] = {}
        self.task_uid = 0
        self.fail_next: dict[str, str] | None = None
        """Make the next enqueued task fail with this ``{"code", "message"}``."""

    # --- tasks ----------------------------------------------------------------------

    def enqueue(
        self, kind: str, index: str | None, apply: Callable[[], dict[str, Any] | None]
    ) -> httpx2.Response:
        self.task_uid += 1
        uid = self.task_uid
        self.tasks[uid] = {
            "uid": uid,
            "indexUid": index,
            "status": "enqueued",
            "type": kind,
            "canceledBy": None,
            "details": {},
            "error": None,
            "duration": None,
            "enqueuedAt": NOW,
            "startedAt": None,
            "finishedAt": None,
        }
        failure, self.fail_next = self.fail_next, None
        self._apply[uid] = (lambda: failure) if failure else apply
        summary = {k: self.tasks[uid][k] for k in ("indexUid", "status", "type")}
        return httpx2.Response(202, json={"taskUid": uid, **summary, "enqueuedAt": NOW})

    def _advance(self, uid: int) -> None:
        task = self.tasks[uid]
        if task["status"] == "enqueued":
            task["status"], task["startedAt"] = "processing", NOW
        elif task["status"] == "processing":
            error = self._apply.pop(uid)()
            task["status"] = "failed" if error else "succeeded"
            task["error"], task["finishedAt"], task["duration"] = error, NOW, "PT0.001S"

    def cancel(self, uid: int) -> None:
        """``POST /tasks/cancel?uids=…``: an unfinished task ends ``canceled``."""
        task = self.tasks[uid]
        if task["status"] in ("enqueued", "processing"):
            self.task_uid += 1
            task.update(status="canceled", canceledBy=self.task_uid, finishedAt=NOW)
            self._apply.pop(uid, None)

    # --- settings -------------------------------------------------------------------

    def validate_settings(self, body: dict[str, Any]) -> httpx2.Response | None:
        unknown = sorted(set(body) - KNOWN_SETTINGS)
        if unknown:
            return _error(400, "bad_request", f"Unknown field `{unknown[0]}`")
        for rule in body.get("rankingRules") or ():
            if rule not in BUILT_IN_RULES and not _CUSTOM_RULE.match(rule):
                return _error(
                    400,
                    "invalid_settings_ranking_rules",
                    f"`{rule}` ranking rule is invalid. Valid ranking rules are words, typo, "
                    "sort, proximity, attribute, exactness and custom ranking rules.",
                )
        sort_by = (body.get("faceting") or {}).get("sortFacetValuesBy") or {}
        # meilisearch-types/src/facet_values_sort.rs: ``alpha`` or ``count``.
        if any(v not in ("alpha", "count") for v in sort_by.values()):
            return _error(400, "invalid_settings_faceting", "sortFacetValuesBy: alpha or count")
        hits = (body.get("pagination") or {}).get("maxTotalHits")
        if hits is not None and (not isinstance(hits, int) or hits < 1):
            return _error(400, "invalid_settings_pagination", "maxTotalHits: a positive integer")
        return None

    def _update_settings(self, uid: str, body: dict[str, Any]) -> dict[str, Any] | None:
        index = self.indexes.get(uid)
        if index is None:
            return {"code": "index_not_found", "message": f"Index `{uid}` not found."}
        for name, value in body.items():
            if name in SET_SETTINGS:
                value = sorted(set(value or []))
            elif name in NESTED_SETTINGS and isinstance(value, dict):
                value = {**index.settings[name], **value}
            index.settings[name] = value
        return None

    # --- search ---------------------------------------------------------------------

    def _matching(self, index: Index, expression: str | None) -> list[dict[str, Any]]:
        found = list(index.documents.values())
        for clause in (expression or "").split(" AND "):
            if not clause:
                continue
            compared = _COMPARISON.match(clause)
            if compared:
                # milli/src/search/facet/filter.rs: ``!=`` is every document but those
                # ``=`` finds (``Condition::NotEqual``), those without the field too.
                name, operator, raw = compared.groups()
                wanted = json.loads(raw)
                found = [d for d in found if (d.get(name) == wanted) == (operator == "=")]
                continue
            name, values = _FILTER.match(clause).groups()  # type: ignore[union-attr]
            accepted = set(json.loads(f"[{values}]"))
            found = [
                d
                for d in found
                if (set(d.get(name) or []) if isinstance(d.get(name), list) else {d.get(name)})
                & accepted
            ]
        return found

    def search(self, index: Index, body: dict[str, Any]) -> dict[str, Any]:
        """meilisearch/src/search/mod.rs (``prepare_search``, ``perform_search``): offset
        and limit are cut to ``maxTotalHits``, ``estimatedTotalHits`` is at most
        ``maxTotalHits``. Ranking follows the order of the ranking rules (milli
        ``search/new/mod.rs`` applies them in turn): here ``words`` ranks documents whose
        title holds every query word first, ``sort`` orders by the request's ``sort``;
        whichever comes first in ``rankingRules`` decides."""
        words = _WORD.findall((body.get("q") or "").lower())
        searchable = index.settings["searchableAttributes"]
        found = [
            d
            for d in self._matching(index, body.get("filter"))
            if _holds_words(d, searchable, body.get("q") or "", index.settings["separatorTokens"])
        ]
        keys: list[Callable[[dict[str, Any]], Any]] = []
        for rule in index.settings["rankingRules"]:
            if rule == "words" and words:
                keys.append(
                    lambda d: 0 if all(w in str(d.get("title", "")).lower() for w in words) else 1
                )
            elif rule == "sort" and body.get("sort"):
                field, _, order = body["sort"][0].partition(":")
                sign = -1 if order == "desc" else 1
                keys.append(lambda d, f=field, s=sign: s * (d.get(f) or 0))
        found.sort(key=lambda d: tuple(k(d) for k in keys))
        cap = index.settings["pagination"]["maxTotalHits"]
        offset = min(body.get("offset", 0), cap)
        limit = min(body.get("limit", 20), cap - offset)
        facets: dict[str, dict[str, int]] = {}
        sort_by = index.settings["faceting"]["sortFacetValuesBy"].get("*", "alpha")
        for name in body.get("facets") or ():
            counts: dict[str, int] = {}
            for d in found:
                values = d.get(name) if isinstance(d.get(name), list) else [d.get(name)]
                for v in values:
                    if v is not None:
                        counts[str(v)] = counts.get(str(v), 0) + 1
            # milli/src/search/facet/facet_distribution.rs: the first maxValuesPerFacet
            # values in lexicographic order, or the most frequent with ``count``.
            if sort_by == "count":
                order = sorted(counts, key=lambda v, c=counts: (-c[v], v))
            else:
                order = sorted(counts)
            top = order[: index.settings["faceting"]["maxValuesPerFacet"]]
            facets[name] = {v: counts[v] for v in top}
        return {
            "hits": found[offset : offset + limit],
            "query": body.get("q") or "",
            "processingTimeMs": 1,
            "limit": limit,
            "offset": offset,
            "estimatedTotalHits": min(len(found), cap),
            "facetDistribution": facets,
        }

    # --- routes ---------------------------------------------------------------------

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, path, body))
        self.authorizations.add(request.headers.get("authorization"))
        parts = path.strip("/").split("/")
        if parts[0] == "tasks" and len(parts) == 2:
            uid = int(parts[1])
            if uid not in self.tasks:
                return _error(404, "task_not_found", f"Task `{uid}` not found.")
            self._advance(uid)
            return httpx2.Response(200, json=self.tasks[uid])
        if parts[0] == "keys":
            return httpx2.Response(
                200,
                json={
                    "uid": "6062abda-a5aa-4414-ac91-ecd7944c0f8d",
                    "key": parts[1],
                    "name": "Default Search API Key",
                    "description": "Use it to search from the frontend",
                    "actions": ["search"],
                    "indexes": ["*"],
                    "expiresAt": None,
                    "createdAt": NOW,
                    "updatedAt": NOW,
                },
            )
        if parts[0] == "swap-indexes":
            a, b = body[0]["indexes"]

            def swap() -> None:
                self.indexes[a], self.indexes[b] = self.indexes[b], self.indexes[a]
                self.indexes[a].uid, self.indexes[b].uid = a, b

            return self.enqueue("indexSwap", None, swap)
        if path == "/indexes" and request.method == "POST":
            uid = body["uid"]

            def create() -> dict[str, Any] | None:
                if uid in self.indexes:
                    return {"code": "index_already_exists", "message": f"Index `{uid}` exists."}
                self.indexes[uid] = Index(uid)
                return None

            return self.enqueue("indexCreation", uid, create)
        uid = parts[1]
        rest = "/".join(parts[2:])
        index = self.indexes.get(uid)
        if rest == "" and request.method == "DELETE":
            return self.enqueue("indexDeletion", uid, lambda: self.indexes.pop(uid, None) and None)
        if rest == "settings" and request.method == "PATCH":
            refused = self.validate_settings(body)
            if refused is not None:
                return refused
            return self.enqueue("settingsUpdate", uid, lambda: self._update_settings(uid, body))
        if rest == "documents" and request.method == "POST":

            def add() -> dict[str, Any] | None:
                target = self.indexes.get(uid)
                if target is None:  # milli creates the index on a first addition
                    target = self.indexes[uid] = Index(uid)
                target.documents.update({d["id"]: d for d in body})
                return None

            return self.enqueue("documentAdditionOrUpdate", uid, add)
        if rest == "documents/delete-batch":

            def remove() -> None:
                for doc_id in body:
                    self.indexes[uid].documents.pop(doc_id, None)

            return self.enqueue("documentDeletion", uid, remove)
        if index is None:
            return _error(404, "index_not_found", f"Index `{uid}` not found.")
        if rest == "":
            return httpx2.Response(
                200, json={"uid": uid, "primaryKey": "id", "createdAt": NOW, "updatedAt": NOW}
            )
        if rest == "settings/synonyms" and request.method == "GET":
            return httpx2.Response(200, json=index.settings["synonyms"])
        if rest == "settings" and request.method == "GET":
            return httpx2.Response(200, json=index.settings)
        if rest == "stats":
            return httpx2.Response(
                200,
                json={
                    "numberOfDocuments": len(index.documents),
                    "isIndexing": False,
                    "fieldDistribution": {},
                },
            )
        if rest == "documents/fetch":
            # meilisearch/src/routes/indexes/documents.rs, ``documents_by_query_post``:
            # documents matching the filter, offset and limit, ``total`` of every match
            # (no maxTotalHits here).
            found = self._matching(index, body.get("filter"))
            offset, limit = body.get("offset", 0), body.get("limit", 20)
            fields = body.get("fields")
            page = [
                {k: v for k, v in d.items() if not fields or k in fields}
                for d in found[offset : offset + limit]
            ]
            return httpx2.Response(
                200, json={"results": page, "offset": offset, "limit": limit, "total": len(found)}
            )
        if rest == "search":
            return httpx2.Response(200, json=self.search(index, body))
        return _error(404, "not_found", "no route")


class Served:
    """A :class:`FakeMeilisearch` answering HTTP on a free loopback port."""

    def __init__(self, fake: FakeMeilisearch) -> None:
        self.fake = fake
        # IPPROTO_TCP named: asyncio then sets TCP_NODELAY on the connections (without
        # it each answer waits ~40 ms for the client's delayed acknowledgement).
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(
            self.app,
            interface="asgi3",
            lifespan="off",
            http="h11",
            ws="none",
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        query = scope["query_string"].decode()
        request = httpx2.Request(
            scope["method"],
            f"{self.url}{scope['path']}" + (f"?{query}" if query else ""),
            headers=[(k.decode(), v.decode()) for k, v in scope["headers"]],
            content=body,
        )
        response = self.fake(request)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": response.content})

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.socket]))
        while not self.server.started:
            if self.task.done():
                self.task.result()  # startup failed: its error
            await asyncio.sleep(0)  # startup runs on this loop: a few turns

    async def stop(self) -> None:
        """Close the listening socket and every connection: the server is gone."""
        if self.task is not None:
            self.server.should_exit = True
            await self.task
            self.task = None
        self.socket.close()
