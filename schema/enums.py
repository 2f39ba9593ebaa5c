"""GraphQL enums built from the domain's enums, each value described by its French label."""

from __future__ import annotations

import enum
from typing import Any

import strawberry

from schema.strawberry_compat import describe_enum_values
from services.content import ContentStatus
from services.labels import label


def mirror(source: type[enum.Enum], description: str) -> Any:
    """Expose a domain enum to GraphQL, each value described by its French label.

    The domain enum itself is registered (values pass between layers unchanged);
    only documentation is attached here, so ``services`` stays free of GraphQL."""
    wrapped = strawberry.enum(source, description=description)
    describe_enum_values(wrapped, lambda name: label(source[name]))
    return wrapped


ContentStatusEnum = mirror(ContentStatus, "Publication state of a piece of content.")
