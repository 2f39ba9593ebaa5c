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
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.refusals import Refusal
from services.settings import GraphQLSettings

if TYPE_CHECKING:
    from gateway.guards import Operation

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
_NOT_ALLOWED_MESSAGE = "Document non autorisé : seules les requêtes enregistrées passent."


def document_hash(document: str) -> str:
    """Hex SHA-256 of a document, as APQ clients compute it (UTF-8 text, unchanged)."""
    return hashlib.sha256(document.encode()).hexdigest()


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


def _refusal(code: str, message: str, status: int | None = None) -> Refusal:
    return Refusal(code, message, status=status)


class PersistedQueries:
    """APQ store and allow-list check: the pipeline's allow-list step."""

    def __init__(self, settings: GraphQLSettings) -> None:
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

    def is_registered(self, document: str) -> bool:
        """Whether ``document`` is in the allow-list or the APQ store."""
        digest = document_hash(document)
        return digest in (self.allowlist if self.allowlist is not None else self._store)

    def _register(self, digest: str, document: str) -> None:
        self._store[digest] = document
        self._store.move_to_end(digest)
        while len(self._store) > self.max_entries:
            self._store.popitem(last=False)

    def resolve(self, operation: Operation) -> bool:
        """Give a hash-only operation its document, register a new one, or refuse.

        Returns whether the document is registered (allow-list or store); raises
        :class:`gateway.guards.Refusal` when it may not run."""
        extension = (operation.extensions or {}).get("persistedQuery")
        if extension is None:
            if self.allowlist is not None:
                if operation.query is None or document_hash(operation.query) not in self.allowlist:
                    raise _refusal(NOT_ALLOWED, _NOT_ALLOWED_MESSAGE)
                return True
            return operation.query is not None and self.is_registered(operation.query)
        if not self.enabled and self.allowlist is None:
            if operation.query is None:
                raise _refusal("PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported")
            return False
        digest = extension.get("sha256Hash") if isinstance(extension, dict) else None
        if (
            not isinstance(extension, dict)
            or extension.get("version") != 1
            or not isinstance(digest, str)
        ):
            raise _refusal(
                "BAD_USER_INPUT", "persistedQuery : version 1 et sha256Hash attendus.", 400
            )
        digest = digest.lower()
        if operation.query is None:
            document = self.lookup(digest)
            if document is None:
                # Apollo clients recognise the message as well as the code.
                raise _refusal(NOT_FOUND, "PersistedQueryNotFound")
            operation.query = document
            return True
        if document_hash(operation.query) != digest:
            raise _refusal(
                "BAD_USER_INPUT", "persistedQuery : sha256Hash ne correspond pas au document.", 400
            )
        if self.allowlist is not None:
            if digest not in self.allowlist:
                raise _refusal(NOT_ALLOWED, _NOT_ALLOWED_MESSAGE)
            return True
        self._register(digest, operation.query)
        return True
