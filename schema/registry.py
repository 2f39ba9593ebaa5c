"""What the GraphQL layer knows of each content type, and the root fields of each domain,
declared in the domain's own package and gathered here.

- :func:`node_type` ties a content type (:mod:`services.registry`) to its GraphQL type and
  its loader by id: ``node(id:)``, ``nodes(ids:)`` and the publication mutations follow;
  :func:`other_node_type` does the same for the other types implementing ``Node``.
- :func:`payloads` gives a content type's ``Create<Type>Payload`` and
  ``Update<Type>Payload`` (:mod:`schema.payloads`), made once from its GraphQL type.
- :func:`query`, :func:`mutation` and :func:`subscription` mark a domain's classes of root
  fields; :func:`schema.build_schema` merges them.

Declarations are found by :func:`discover`, which imports the ``types``, ``queries``,
``mutations`` and ``subscriptions`` modules of every package of ``schema``.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from schema.context import Context
from schema.payloads import object_payload
from schema.strawberry_compat import type_name
from services import registry as services_registry
from services.registry import ContentType

T = TypeVar("T")
Loader = Callable[[Context], DataLoader[int, Any]]
_MODULES = ("types", "queries", "mutations", "subscriptions")


@dataclass(frozen=True)
class NodeType:
    """A type served by ``node(id:)``: a content type, or another type implementing
    ``Node`` (accounts, subscribers, newsletter issues and templates)."""

    type_name: str
    type: Any
    """The Strawberry type; ``type.from_model(row)`` converts a row."""
    loader: Loader
    """The per-request loader of rows by id; it answers None for a row the viewer may not
    read (visibility and the policy table applied)."""
    content: ContentType | None = None
    """The content type, when it is one (publishing, shared writes)."""
    converter: Callable[[Context, Any], Any] | None = None
    """How to convert a row when ``type.from_model(row)`` needs more than the row."""

    @property
    def name(self) -> str:
        return self.type_name

    def convert(self, row: Any) -> Any:
        return self.type.from_model(row)

    def convert_for(self, ctx: Context, row: Any) -> Any:
        """``row`` as its GraphQL type, for the request of ``ctx``."""
        return self.converter(ctx, row) if self.converter is not None else self.convert(row)

    @property
    def payloads(self) -> tuple[type, type]:
        """``(Create<Type>Payload, Update<Type>Payload)``."""
        return payloads(self.type)


_NODES: dict[str, NodeType] = {}
_ROOTS: dict[str, list[type]] = {"query": [], "mutation": [], "subscription": []}
_discovered = False


def node_type(name: str, type_: Any, loader: Loader) -> NodeType:
    """Serve the content type ``name`` as ``type_``, loaded by ``loader``."""
    content = services_registry.content_type(name)
    if content is None:
        raise LookupError(f"{name} is not a registered content type (services.registry)")
    found = NodeType(name, type_, loader, content=content)
    _NODES[name] = found
    return found


def other_node_type(
    type_: Any, loader: Loader, *, convert: Callable[[Context, Any], Any] | None = None
) -> NodeType:
    """Serve ``type_``, a type implementing ``Node`` that is no content type, through
    ``node(id:)``: ``loader`` answers None for the rows the viewer may not read."""
    found = NodeType(type_.__name__, type_, loader, converter=convert)
    _NODES[found.name] = found
    return found


_PAYLOADS: dict[str, tuple[type, type]] = {}


def payloads(type_: Any) -> tuple[type, type]:
    """``(Create<Type>Payload, Update<Type>Payload)`` of the Strawberry type ``type_``, each
    ``{ <type>: Type, errors: [UserError!]! }``; made on the first call, the same after."""
    name = type_name(type_)
    if name not in _PAYLOADS:
        field, label = snake_name(name), _words(name, " ")
        _PAYLOADS[name] = (
            object_payload(f"Create{name}Payload", field, type_, f"The {label} created."),
            object_payload(f"Update{name}Payload", field, type_, f"The {label} as changed."),
        )
    return _PAYLOADS[name]


def snake_name(type_name: str) -> str:
    """``shared_project`` for ``SharedProject``: the Python name of a field of that type."""
    return _words(type_name, "_")


def _words(type_name: str, separator: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", separator, type_name).lower()


def forget_node_type(name: str) -> None:
    """Remove a node type (tests that register throwaway types)."""
    _NODES.pop(name, None)


def _root(kind: str) -> Callable[[type[T]], type[T]]:
    def mark(cls: type[T]) -> type[T]:
        if cls not in _ROOTS[kind]:
            _ROOTS[kind].append(cls)
        return cls

    return mark


query = _root("query")
"""Class decorator: these fields belong to ``Query``."""
mutation = _root("mutation")
"""Class decorator: these fields belong to ``Mutation``."""
subscription = _root("subscription")
"""Class decorator: these fields belong to ``Subscription``."""


def discover() -> None:
    """Import every domain package's declarations (once)."""
    global _discovered
    if _discovered:
        return
    import schema

    for package in pkgutil.iter_modules(schema.__path__):
        if not package.ispkg:
            continue
        for module in _MODULES:
            name = f"schema.{package.name}.{module}"
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
    _discovered = True


def node_types() -> dict[str, NodeType]:
    """``{name: node type}`` of every type served through ``node(id:)``."""
    discover()
    return dict(_NODES)


def roots(kind: str) -> list[type]:
    """The classes of root fields of ``query``, ``mutation`` or ``subscription``, in a
    stable order (by module, then name)."""
    discover()
    return sorted(_ROOTS[kind], key=lambda cls: (cls.__module__, cls.__name__))
