"""DataLoaders of concepts."""

from __future__ import annotations

from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.concepts import service


def concept_by_id(ctx: Context) -> DataLoader[int, Any]:
    return ctx.loader("concept_by_id", partial(service.get_concepts_by_ids, ctx.viewer))


def organizations_by_concept_id(ctx: Context) -> DataLoader[int, list[Any]]:
    return ctx.loader(
        "organizations_by_concept_id", service.get_organizations_by_concept_ids, default=list
    )
