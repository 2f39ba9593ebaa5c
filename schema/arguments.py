"""Arguments every domain's mutations share."""

from __future__ import annotations

from typing import Annotated

import strawberry

Version = Annotated[
    int,
    strawberry.argument(
        description="The `version` you read; a newer one on the server makes the mutation "
        "fail with CONFLICT."
    ),
]
"""The version a write is tied to (compare-and-set)."""
