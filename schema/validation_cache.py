"""Validation results kept per parsed document, found by the document's identity.

Strawberry's ``ValidationCache`` keys an ``lru_cache`` by the document, and graphql-core
hashes a document by walking its whole tree: on every request, a few percent of a search
through GraphQL. The parser cache hands back the same document object for the same text,
so the document's identity is enough; the entry keeps the document alive, so its ``id``
is not reused while the entry exists.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from schema.strawberry_compat import graphql_core_schema, validate_document


class DocumentValidationCache(SchemaExtension):
    """``ValidationCache`` keyed by the document's identity (module docstring); pass the
    same instance for every request (``extensions=[lambda: cache]``)."""

    def __init__(self, maxsize: int = 512) -> None:
        super().__init__()
        self.maxsize = maxsize
        self.entries: OrderedDict[tuple[int, int, tuple[Any, ...]], tuple[Any, Any, Any]] = (
            OrderedDict()
        )

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema, document = graphql_core_schema(context.schema), context.graphql_document
        rules = tuple(context.validation_rules)
        key = (id(schema), id(document), rules)
        entry = self.entries.get(key)
        if entry is not None and entry[0] is schema and entry[1] is document:
            self.entries.move_to_end(key)
            errors = entry[2]
        else:
            errors = validate_document(schema, document, rules)
            self.entries[key] = (schema, document, errors)
            while len(self.entries) > self.maxsize:
                self.entries.popitem(last=False)
        context.pre_execution_errors = errors
        yield
