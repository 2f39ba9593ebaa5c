"""The fields a content type accepts on create and update, declared once.

From one :class:`Fields` list come the GraphQL create and update inputs
(``schema/inputs.py``), the validated change set a write applies (:func:`clean`), and
the audit log's before/after (:mod:`services.audit.service`). A field says what it
accepts (its Python type), whether creating needs it, whether null may clear it, how its
value is cleaned, and where it is stored: a column of the model, or a list of links kept
in a link table.

Cleaning checks every given field and reports every bad one at once
(:class:`services.errors.InvalidInput`); nothing is written while any field is bad.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tortoise.models import Model

from services.errors import BadUserInput, InvalidInput

Cleaner = Callable[[Any, "Cleaning"], Any | Awaitable[Any]]


class _Unset:
    """The value of a field the caller left out (distinct from null)."""

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


@dataclass(frozen=True)
class Link:
    """A list of values stored as rows of a link table: (``owner_column``,
    ``value_column``) — a theme's id, or an organisation's role."""

    table: type[Model]
    owner_column: str
    value_column: str


@dataclass(frozen=True)
class Field:
    """One field a content type accepts."""

    name: str
    type: Any
    """What the caller gives: ``str``, an enum, ``dt.date``, ``list[int]`` for links…"""
    description: str
    required: bool = False
    """Creating needs it (its create input is non-null)."""
    nullable: bool = False
    """Null is accepted and clears the value."""
    clean: Cleaner | None = None
    """Turns the given value into what is stored; raises ``BadUserInput``."""
    link: Link | None = None
    """Stored as links rather than in a column."""
    ids_of: str | None = None
    """The given values are global IDs of this type (``Theme``), decoded by the schema."""
    column: str | None = None
    """The model's column, when it is not named like the field."""

    @property
    def stored_as(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class Cleaning:
    """What a cleaner may need beyond the value: the model, and the row being updated."""

    model: type[Model]
    exclude_id: int | None
    field: str


class Fields:
    """The ordered fields of one content type."""

    def __init__(self, *fields: Field) -> None:
        self._fields = {f.name: f for f in fields}

    def __iter__(self) -> Iterator[Field]:
        return iter(self._fields.values())

    def __getitem__(self, name: str) -> Field:
        return self._fields[name]

    def __contains__(self, name: object) -> bool:
        return name in self._fields


@dataclass
class Changes:
    """A validated change set: column values, and the complete new list of each link."""

    values: dict[str, Any] = field(default_factory=dict)
    links: dict[str, list[int]] = field(default_factory=dict)


async def clean(
    fields: Fields,
    given: Mapping[str, Any],
    *,
    model: type[Model],
    exclude_id: int | None,
    creating: bool,
) -> Changes:
    """Validate ``given`` (field name → value; absent or ``UNSET``: left as it is).

    Raises :class:`InvalidInput` listing every bad field: unknown, missing on create, null
    where not nullable, or refused by its cleaner."""
    problems: list[BadUserInput] = []
    changes = Changes()
    for name in given:
        if name not in fields:
            problems.append(BadUserInput(f"Champ inconnu : « {name} ».", field=name))
    for spec in fields:
        value = given.get(spec.name, UNSET)
        if value is UNSET:
            if creating and spec.required:
                problems.append(BadUserInput(f"« {spec.name} » est obligatoire.", field=spec.name))
            continue
        if value is None and not spec.nullable:
            problems.append(
                BadUserInput(f"« {spec.name} » ne peut pas être null.", field=spec.name)
            )
            continue
        try:
            cleaned = value
            if spec.clean is not None and value is not None:
                cleaned = spec.clean(value, Cleaning(model, exclude_id, spec.name))
                if inspect.isawaitable(cleaned):
                    cleaned = await cleaned
        except BadUserInput as error:
            problems.append(error)
            continue
        if spec.link is not None:
            changes.links[spec.name] = list(cleaned or [])
        else:
            changes.values[spec.stored_as] = cleaned
    if problems:
        raise InvalidInput(problems)
    return changes


def slug_field(source: str = "title") -> Field:
    """The URL name every content type has, generated from ``source`` when omitted."""
    from services.validation import free_slug

    return Field(
        "slug",
        str,
        f"URL name (a-z, 0-9, dashes); generated from the {source} when omitted.",
        clean=free_slug,
    )


def links_field(name: str, description: str, *, target: type[Model], link: Link) -> Field:
    """A list of global IDs of ``target`` rows (its model's name is their type), kept in
    ``link``'s table."""
    from services.validation import existing

    return Field(
        name,
        list[int],
        f"{description} (replaces the list).",
        clean=existing(target),
        link=link,
        ids_of=target.__name__,
    )
