"""Concept mutations: editors create, change and delete concepts."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.arguments import Version
from schema.concepts.types import Concept
from schema.inputs import content_inputs, given_fields
from schema.payloads import DeletePayload, payload_mutation
from schema.relay import decode_id
from services.concepts.content_type import CONCEPT
from services.editing import create_content, delete_content, update_content

ConceptID = Annotated[strawberry.ID, strawberry.argument(description="ID of the concept.")]
ConceptCreateInput, ConceptUpdateInput = content_inputs(CONCEPT, "a concept")
CreateConceptPayload, UpdateConceptPayload = registry.payloads(Concept)


@registry.mutation
@strawberry.type
class ConceptMutations:
    @payload_mutation(CreateConceptPayload, description="Create a concept as a draft (editors).")
    async def create_concept(
        self,
        info: strawberry.Info,
        input: Annotated[ConceptCreateInput, strawberry.argument(description="Its fields.")],
    ) -> Concept:
        row = await create_content(info.context.viewer, CONCEPT, given_fields(input, CONCEPT))
        return Concept.from_model(row)

    @payload_mutation(UpdateConceptPayload, description="Change a concept (editors).")
    async def update_concept(
        self,
        info: strawberry.Info,
        id: ConceptID,
        version: Version,
        input: Annotated[ConceptUpdateInput, strawberry.argument(description="Fields to change.")],
    ) -> Concept:
        row = await update_content(
            info.context.viewer,
            CONCEPT,
            decode_id(id, "Concept"),
            version=version,
            given=given_fields(input, CONCEPT),
        )
        return Concept.from_model(row)

    @payload_mutation(
        DeletePayload, description="Delete a concept for good (editors); archive it to keep it."
    )
    async def delete_concept(
        self, info: strawberry.Info, id: ConceptID, version: Version
    ) -> strawberry.ID:
        await delete_content(
            info.context.viewer, CONCEPT, decode_id(id, "Concept"), version=version
        )
        return id
