"""The create and update inputs of a content type, derived from its declared fields
(:class:`services.fields.Fields`), and the reading of a given input back into field values.

For a type ``Theme`` with fields ``title`` (required) and ``month`` (nullable):

- ``ThemeCreateInput`` has ``title: String!`` and ``month: Date``: what creating needs is
  non-null, so generated clients know it;
- ``ThemeUpdateInput`` has every field optional: what is left out is left as it is, and
  null clears a nullable field (``month: null``).

Lists of IDs (``themes: [ID!]``) are global IDs of the field's ``ids_of`` type, decoded
here; the services receive primary keys.
"""

from __future__ import annotations

from typing import Any

import strawberry

from schema.relay import decode_ids
from services.fields import Field, Fields
from services.registry import ContentType


def _graphql_type(field: Field) -> Any:
    if field.ids_of is not None:
        return list[strawberry.ID]
    return field.type


def input_type(name: str, description: str, fields: Fields, *, creating: bool) -> type:
    """A Strawberry input named ``name`` with one field per declared field: non-null for
    the required ones when ``creating``, optional (left out: unchanged) otherwise."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": __name__}
    # Required fields first, as a hand-written class would have to put them.
    ordered = sorted(fields, key=lambda field: not (creating and field.required))
    for field in ordered:
        annotation = _graphql_type(field)
        if creating and field.required:
            annotations[field.name] = annotation
            namespace[field.name] = strawberry.field(description=field.description)
        else:
            annotations[field.name] = annotation | None
            namespace[field.name] = strawberry.field(
                description=field.description, default=strawberry.UNSET
            )
    return strawberry.input(type(name, (), namespace), description=description)


def input_types(type_name: str, label: str, fields: Fields) -> tuple[type, type]:
    """``(<type>CreateInput, <type>UpdateInput)`` for ``fields``; ``label`` is the English
    name used in their descriptions (« an event »)."""
    create = input_type(
        f"{type_name}CreateInput",
        f"Fields of {label} to create; the non-null ones are required.",
        fields,
        creating=True,
    )
    update = input_type(
        f"{type_name}UpdateInput",
        f"Fields of {label} to change; omitted fields are left as they are, null clears "
        "a field that may be empty.",
        fields,
        creating=False,
    )
    return create, update


def given(data: Any, fields: Fields) -> dict[str, Any]:
    """``{field: value}`` of what the caller gave in ``data`` (an input of
    :func:`input_types`), global IDs decoded; omitted fields are left out."""
    found: dict[str, Any] = {}
    for field in fields:
        value = getattr(data, field.name, strawberry.UNSET)
        if value is strawberry.UNSET:
            continue
        if field.ids_of is not None and value is not None:
            value = decode_ids(value, field.ids_of, field.name)
        found[field.name] = value
    return found


def content_inputs(content: ContentType, label: str) -> tuple[type, type]:
    """:func:`input_types` of a content type declared with fields."""
    if content.fields is None:
        raise TypeError(f"{content.name} declares no fields")
    return input_types(content.name, label, content.fields)


def given_fields(data: Any, content: ContentType) -> dict[str, Any]:
    """:func:`given` for a content type declared with fields."""
    assert content.fields is not None
    return given(data, content.fields)
