"""Persisted queries: Apollo's automatic persisted queries (APQ) and an allow-list mode.

APQ (version 1 of Apollo's protocol): a client sends
``extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`` without the
document; the gateway answers ``PERSISTED_QUERY_NOT_FOUND`` when it does not know that
hash, and the client sends the document once more with its hash, which registers it.
Hash-only GET requests are short and cacheable by a CDN. The store is a per-process LRU:
it is only a cache (the client keeps the document), so several processes need no sharing.

Allow-list mode (``TEC_PERSISTED_QUERIES_ALLOWLIST=path/to/queries.json``): only the
documents of that file run, by hash or by full text; anything else is refused with
``PERSISTED_QUERY_NOT_ALLOWED`` and APQ registrations are refused. The file is either
``{"<sha256>": "<document>", …}``, a list of documents, or an Apollo persisted-query
manifest (``{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body"}]}``).
Hashes are always recomputed from the documents: a wrong id in the file is an error at
start-up, never a way to run another document.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.settings import Settings

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"


def document_hash(document: str) -> str:
    """Hex SHA-256 of a document, as APQ clients compute it (UTF-8 text, unchanged)."""
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass
class GraphQLParams:
    """One GraphQL request over HTTP as the client sent it (GET query string or JSON)."""

    query: str | None
    variables: Any
    operation_name: str | None
    extensions: Any
    method: str


def read_params(request: Request, body: bytes | None) -> GraphQLParams | None:
    """The request's GraphQL parameters; None when it is something else (batch, multipart,
    the IDE page, unreadable JSON): those are left to Strawberry, which answers them."""
    try:
        if request.method == "GET":
            params = request.query_params
            if "query" not in params and "extensions" not in params:
                return None
            variables = json.loads(params["variables"]) if params.get("variables") else None
            extensions = json.loads(params["extensions"]) if params.get("extensions") else None
            data: dict[str, Any] = {
                "query": params.get("query"),
                "variables": variables,
                "operationName": params.get("operationName"),
                "extensions": extensions,
            }
        else:
            if body is None:
                return None
            data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    query = data.get("query")
    operation_name = data.get("operationName")
    if not isinstance(query, str | None) or not isinstance(operation_name, str | None):
        return None
    return GraphQLParams(
        query=query,
        variables=data.get("variables"),
        operation_name=operation_name,
        extensions=data.get("extensions"),
        method=request.method,
    )


def replace_query(request: Request, params: GraphQLParams, query: str) -> None:
    """Hand ``query`` to Strawberry in place of what the client sent (hash-only APQ)."""
    params.query = query
    if request.method == "GET":
        items = [(k, v) for k, v in request.query_params.multi_items() if k != "query"]
        request._query_params = QueryParams([*items, ("query", query)])
    else:
        data = {
            "query": query,
            "variables": params.variables,
            "operationName": params.operation_name,
            "extensions": params.extensions,
        }
        request._body = json.dumps(data).encode()


def _error(code: str, message: str) -> Response:
    # Apollo clients recognise the message « PersistedQueryNotFound » as well as the code.
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]})


def load_allowlist(path: Path) -> dict[str, str]:
    """``{sha256: document}`` of an allow-list file (see the module's docstring)."""
    raw = json.loads(path.read_text("utf-8"))
    if isinstance(raw, dict) and "operations" in raw:
        documents = [op["body"] for op in raw["operations"]]
        claimed = [op.get("id") for op in raw["operations"]]
    elif isinstance(raw, dict):
        documents, claimed = list(raw.values()), list(raw.keys())
    elif isinstance(raw, list):
        documents, claimed = list(raw), [None] * len(raw)
    else:
        raise ValueError(f"{path}: expected an object or a list of GraphQL documents")
    found: dict[str, str] = {}
    for document, claim in zip(documents, claimed, strict=True):
        if not isinstance(document, str):
            raise ValueError(f"{path}: every document must be a string")
        digest = document_hash(document)
        if claim is not None and claim != digest:
            raise ValueError(f"{path}: id {claim} is not the SHA-256 of its document")
        found[digest] = document
    return found


class PersistedQueries:
    """APQ store and allow-list check, applied before the response cache and execution."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.persisted_queries
        self.max_entries = settings.persisted_queries_max_entries
        path = settings.persisted_queries_allowlist
        self.allowlist: dict[str, str] | None = load_allowlist(Path(path)) if path else None
        self._store: OrderedDict[str, str] = OrderedDict()

    def lookup(self, digest: str) -> str | None:
        if self.allowlist is not None:
            return self.allowlist.get(digest)
        found = self._store.get(digest)
        if found is not None:
            self._store.move_to_end(digest)
        return found

    def _register(self, digest: str, document: str) -> None:
        self._store[digest] = document
        self._store.move_to_end(digest)
        while len(self._store) > self.max_entries:
            self._store.popitem(last=False)

    def prepare(self, request: Request, params: GraphQLParams) -> Response | None:
        """Resolve a hash-only request into its document, register a new one, or refuse.

        None means « go on » (``params.query`` then holds the document); a response is
        the answer to send as is."""
        extension = params.extensions.get("persistedQuery") if params.extensions else None
        if not isinstance(extension, dict):
            extension = None
        if extension is None:
            if self.allowlist is not None and (
                params.query is None or document_hash(params.query) not in self.allowlist
            ):
                return _error(
                    NOT_ALLOWED, "Document non autorisé : seules les requêtes enregistrées passent."
                )
            return None
        if not self.enabled and self.allowlist is None:
            if params.query is None:
                return _error("PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported")
            return None
        digest = extension.get("sha256Hash")
        if extension.get("version") != 1 or not isinstance(digest, str):
            return JSONResponse(
                {
                    "errors": [
                        {
                            "message": "persistedQuery : version 1 et sha256Hash attendus.",
                            "extensions": {"code": "BAD_USER_INPUT"},
                        }
                    ]
                },
                status_code=400,
            )
        digest = digest.lower()
        if params.query is None:
            document = self.lookup(digest)
            if document is None:
                return _error(NOT_FOUND, "PersistedQueryNotFound")
            replace_query(request, params, document)
            return None
        if document_hash(params.query) != digest:
            return JSONResponse(
                {
                    "errors": [
                        {
                            "message": "persistedQuery : sha256Hash ne correspond pas au document.",
                            "extensions": {"code": "BAD_USER_INPUT"},
                        }
                    ]
                },
                status_code=400,
            )
        if self.allowlist is not None:
            if digest not in self.allowlist:
                return _error(
                    NOT_ALLOWED, "Document non autorisé : seules les requêtes enregistrées passent."
                )
            return None
        self._register(digest, params.query)
        return None
