"""Concept mutations: editors create, change and delete concepts of the month."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from schema.concepts.types import Concept
from schema.relay import Deleted, decode_id, decode_ids
from services.concepts import editing
from services.errors import BadUserInput

ConceptID = Annotated[strawberry.ID, strawberry.argument(description="ID of the concept.")]
Version = Annotated[
    int,
    strawberry.argument(
        description="The `version` you read; a newer one on the server "
        "makes the mutation fail with CONFLICT."
    ),
]


@strawberry.input(
    description="Fields of a concept. On update, omitted fields are left as they are."
)
class ConceptInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="Title (≤ 200).")
    slug: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="URL name (a-z, 0-9, dashes); generated from the title when omitted.",
    )
    summary: str | None = strawberry.field(
        default=strawberry.UNSET, description="Plain-text opening lines (≤ 2,000)."
    )
    body: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Full text as HTML (≤ 100,000); sanitised with an allow-list.",
    )
    month: dt.date | None = strawberry.field(
        default=strawberry.UNSET,
        description="Month it is the concept of the month (stored as the 1st); null removes it.",
    )
    further_reading: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="« Pour aller plus loin » hint, plain text (≤ 300); null removes it.",
    )
    organizations: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="IDs of the organisations that wrote it (replaces the list).",
    )


_NOT_NULL = ("title", "slug", "summary", "body")


def to_changes(data: ConceptInput) -> editing.ConceptChanges:
    """The service's change set; null is refused where a value is required."""
    changes = editing.ConceptChanges()
    for name in ("title", "slug", "summary", "body", "month", "further_reading"):
        value = getattr(data, name)
        if value is strawberry.UNSET:
            continue
        if value is None and name in _NOT_NULL:
            raise BadUserInput(f"« {name} » ne peut pas être null.", field=name)
        setattr(changes, name, value)
    if data.organizations is not strawberry.UNSET:
        changes.organization_ids = decode_ids(
            data.organizations or (), "Organization", "organizations"
        )
    return changes


def concept_pk(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Concept")


@strawberry.type
class ConceptMutations:
    @strawberry.mutation(description="Create a concept as a draft (editors).")
    async def create_concept(
        self,
        info: strawberry.Info,
        input: Annotated[ConceptInput, strawberry.argument(description="Its fields.")],
    ) -> Concept:
        found = await editing.create_concept(info.context.viewer, changes=to_changes(input))
        return Concept.from_model(found)

    @strawberry.mutation(description="Change a concept (editors).")
    async def update_concept(
        self,
        info: strawberry.Info,
        id: ConceptID,
        version: Version,
        input: Annotated[ConceptInput, strawberry.argument(description="Fields to change.")],
    ) -> Concept:
        found = await editing.update_concept(
            info.context.viewer, concept_pk(id), version=version, changes=to_changes(input)
        )
        return Concept.from_model(found)

    @strawberry.mutation(description="Delete a concept for good (editors); archive it to keep it.")
    async def delete_concept(
        self, info: strawberry.Info, id: ConceptID, version: Version
    ) -> Deleted:
        await editing.delete_concept(info.context.viewer, concept_pk(id), version=version)
        return Deleted(id=id)
