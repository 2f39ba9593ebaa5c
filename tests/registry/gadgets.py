"""A throwaway content type, declared the way a domain declares one — model, content type
with its demo rows, GraphQL type with its loader, what the read compiler reads of it,
search document — and nothing else edited anywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from tortoise import fields as columns

from schema import registry as schema_registry
from schema.compiler.coverage import compiled_table
from schema.context import Context
from schema.relay import Node
from schema.writes import Descriptions, content_mutations
from search.documents import Searchable, register_search
from search.port import Document
from services.content import ContentModel, ContentStatus
from services.demo.rows import DemoRun
from services.fields import Field, Fields, slug_field
from services.registry import ContentType, Demo, register
from services.validation import text
from services.viewer import Viewer, visible


class Gadget(ContentModel):
    title = columns.CharField(max_length=100)
    colour = columns.CharField(max_length=20, default="")

    class Meta:
        table = "gadget"


async def _load_demo_gadget(entry: dict[str, Any], run: DemoRun) -> Gadget:
    return await run.upsert(
        Gadget,
        entry["slug"],
        {"title": entry["title"], "colour": entry["colour"], "status": ContentStatus.PUBLISHED},
    )


GADGET = register(
    ContentType(
        name="Gadget",
        model=Gadget,
        label="Gadget",
        definite="le gadget",
        entity="gadget",
        demo=Demo("gadgets", _load_demo_gadget),
        publishable=True,
        fields=Fields(
            Field("title", str, "Title (≤ 100).", required=True, clean=text(100)),
            slug_field(),
            Field("colour", str, "Colour.", clean=text(20, required=False)),
        ),
    )
)


async def _gadgets_by_ids(viewer: Viewer, ids: Sequence[int]) -> dict[int, Gadget]:
    return {g.id: g for g in await Gadget.filter(visible(viewer), id__in=list(ids))}


def gadget_by_id(ctx: Context) -> Any:
    return ctx.loader("gadget_by_id", lambda ids: _gadgets_by_ids(ctx.viewer, ids))


@strawberry.type(description="A throwaway content type of the registry tests.")
class GadgetType(Node):
    title: str = strawberry.field(description="Title.")
    colour: str = strawberry.field(description="Colour.")

    @classmethod
    def from_model(cls, m: Gadget) -> GadgetType:
        return cls(pk=m.id, title=m.title, colour=m.colour)


GadgetType.__strawberry_definition__.name = "Gadget"  # type: ignore[attr-defined]
schema_registry.node_type("Gadget", GadgetType, gadget_by_id)


def _fill(row: Gadget, doc: Document) -> None:
    doc["text"] = row.colour


register_search(Searchable(content=GADGET, facets={}, fill=_fill))
compiled_table("Gadget", Gadget, by_id=lambda viewer, pk: Gadget.filter(visible(viewer), id=pk))
content_mutations(
    GADGET,
    GadgetType,
    Descriptions(
        a="a gadget",
        the="the gadget",
        create="Create a gadget as a draft (editors).",
        update="Change a gadget (editors).",
        delete="Delete a gadget for good (editors).",
    ),
)
