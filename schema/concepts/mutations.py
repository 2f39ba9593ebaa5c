"""Concept mutations: editors create, change and delete concepts."""

from __future__ import annotations

from schema.concepts.types import Concept
from schema.writes import Descriptions, content_mutations
from services.concepts.content_type import CONCEPT

WRITES = content_mutations(
    CONCEPT,
    Concept,
    Descriptions(
        a="a concept",
        the="the concept",
        create="Create a concept as a draft (editors).",
        update="Change a concept (editors).",
        delete="Delete a concept for good (editors); archive it to keep it.",
    ),
)
ConceptCreateInput, ConceptUpdateInput = WRITES.create_input, WRITES.update_input
