"""The content types of the platform, each declared once.

A domain package declares its content type in its ``content_type.py`` module with
:func:`register` (the way NetBox registers search indexes and Wagtail snippets). Every
concern that needs the list of content types reads it from here instead of keeping its
own: the writes (:mod:`services.editing`), publishing (:mod:`services.publishing`), the
policy table (:mod:`services.policy`), the outbox, the demo data
(:mod:`services.demo.loader`). The layers above keep registries of their own fed the
same way — GraphQL types and node lookup (:mod:`schema.registry`), search documents
(:mod:`search.documents`) — keyed by :attr:`ContentType.name`.

Declarations are found by :func:`discover`, which imports ``services.<package>.content_type``
for every package of ``services``; a package outside it (a test's) calls :func:`register`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tortoise.models import Model

from services.fields import Changes, Fields

if TYPE_CHECKING:
    from services.demo.rows import DemoRun
    from services.policy import Principal
    from services.viewer import Viewer

AfterWrite = Callable[["Viewer", Any, Changes], Awaitable[None]]
Check = Callable[[Changes, Any], None]
InUse = Callable[[int], Awaitable[dict[str, int]]]
LoadDemo = Callable[[dict[str, Any], "DemoRun"], Awaitable[Model]]


@dataclass(frozen=True)
class Demo:
    """How ``tec demo`` loads a content type's rows from the demo file."""

    key: str
    """The list of the demo file holding its rows (``themes``)."""
    load: LoadDemo
    """Creates or updates the row of one entry (matched by its slug) with its links, and
    returns it; rows of other types are found with ``DemoRun.row``."""
    after: tuple[str, ...] = ()
    """Names of the content types whose demo rows its entries refer to: loaded first."""


@dataclass(frozen=True)
class PolicyRow:
    """One operation of the policy table a content type brings."""

    operation: str
    who: frozenset[Principal]
    description: str


@dataclass(frozen=True)
class ContentType:
    """What the platform knows of one kind of content."""

    name: str
    """Global-ID and GraphQL type name (``Resource``)."""
    model: type[Model]
    label: str
    """French name, capitalised, for messages (« Ressource introuvable. »)."""
    entity: str
    """Lower-case name of audit actions (``resource.update``), policy operations and the
    outbox's entity type."""
    definite: str = "l'objet"
    """French name with its article, for messages (« la thématique est encore utilisée »)."""
    fields: Fields | None = None
    """What editors may write through the shared create/update/delete; None: the type has
    writes of its own (voting rounds, shared projects) or none."""
    publishable: bool = False
    """Drafts, publication (now or at a date), unpublish and archive."""
    versioned: bool = True
    """A ``version`` column: updates and deletes are compare-and-set on it."""
    followed: bool = True
    """Its writes add outbox rows: other components (search) follow its changes."""
    slug_from: str = "title"
    """The field a new row's slug is made from when none is given."""
    in_use: InUse | None = None
    """What still refers to a row (``{"votes": 3}``): deleting it is refused while any."""
    delete_hint: str = ""
    """Added to the refusal of a deletion, after « Retirez d'abord ces références »."""
    check: Check | None = None
    """A rule across fields, given the change set and the current row (None on create);
    raises ``BadUserInput``."""
    after_write: AfterWrite | None = None
    """A domain rule run in the write's transaction, after create or update."""
    writers: frozenset[Principal] | None = None
    """Who may use the shared writes (create, update, delete); None: editors."""
    policy: tuple[PolicyRow, ...] = ()
    """Other operations of the policy table that belong to this type."""
    demo: Demo | None = None
    """Its rows of the demo data; None: the type has none of its own."""
    cache_parts: tuple[type[Model], ...] = ()
    """Models whose rows belong to this type's answers and are written (and audited) on
    their own, such as a round's votes: their writes are writes of this type for the
    response cache."""
    cache_touches: tuple[str, ...] = ()
    """Names of the other content types whose rows or answers a write of this type changes
    without an audit entry of their own (opening a round marks its themes as candidates):
    the response cache drops their entries too."""

    def policy_rows(self) -> tuple[PolicyRow, ...]:
        """This type's rows of the policy table: its shared writes, then the others."""
        rows = self.policy
        if self.fields is not None:
            from services.policy import EDITORS

            who = self.writers if self.writers is not None else EDITORS
            rows = (
                *(
                    PolicyRow(f"{self.entity}.{verb}", who, f"{verb}{self.name}")
                    for verb in ("create", "update", "delete")
                ),
                *rows,
            )
        return rows


_REGISTRY: dict[str, ContentType] = {}
_discovered = False
_generation = 0


def generation() -> int:
    """A number that changes whenever the registry does (for what is derived from it)."""
    return _generation


def register(content: ContentType) -> ContentType:
    """Add ``content`` to the registry (a second registration of a name is an error)."""
    global _generation
    found = _REGISTRY.get(content.name)
    if found is not None and found is not content:
        raise ValueError(f"content type {content.name} is registered twice")
    _REGISTRY[content.name] = content
    # Kept by the package declaring each type, then in that package's order of
    # registration (a stable sort): which module a process happened to import first never
    # changes the order of the policy table, the schema's types or the documentation.
    ordered = sorted(_REGISTRY.values(), key=lambda c: c.model.__module__.split(".")[1])
    _REGISTRY.clear()
    _REGISTRY.update((c.name, c) for c in ordered)
    _generation += 1
    return content


def unregister(name: str) -> None:
    """Remove a content type (tests that register throwaway types)."""
    global _generation
    _REGISTRY.pop(name, None)
    _generation += 1


def discover() -> None:
    """Import every ``services.<package>.content_type`` module (once)."""
    global _discovered
    if _discovered:
        return
    import services

    for module in pkgutil.iter_modules(services.__path__):
        if module.ispkg:
            try:
                importlib.import_module(f"services.{module.name}.content_type")
            except ModuleNotFoundError as error:
                if error.name != f"services.{module.name}.content_type":
                    raise
    _discovered = True


def content_types() -> list[ContentType]:
    """Every registered content type: by the package declaring it, then in the order that
    package registered them."""
    discover()
    return list(_REGISTRY.values())


def content_type(name: str) -> ContentType | None:
    """The content type named ``name`` (``Resource``), or None."""
    discover()
    return _REGISTRY.get(name)


def of_model(model: type[Model]) -> ContentType | None:
    """The content type whose rows are ``model``'s, or None."""
    return next((c for c in content_types() if c.model is model), None)


def cache_tags_of_model(model_name: str) -> frozenset[str] | None:
    """The content types whose cached answers a write audited on a row of the model named
    ``model_name`` can change: its own type (or the type it is a part of) and those the
    type declares it touches; None for a model of no content type (every answer may
    change, as nothing says which do not)."""
    for content in content_types():
        if content.model.__name__ == model_name or any(
            part.__name__ == model_name for part in content.cache_parts
        ):
            return frozenset({content.name, *content.cache_touches})
    return None


def of_model_name(model_name: str) -> ContentType | None:
    """The content type whose own rows are those of the model named ``model_name``."""
    return next((c for c in content_types() if c.model.__name__ == model_name), None)


def publishable() -> dict[str, ContentType]:
    """``{name: content type}`` of the types that are published and archived."""
    return {c.name: c for c in content_types() if c.publishable}
