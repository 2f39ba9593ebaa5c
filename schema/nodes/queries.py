"""``node(id:)`` and ``nodes(ids:)``: any object of a content type registered with
:func:`schema.registry.node_type`, by its global ID, through its loader."""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry

from schema import registry
from schema.caching import public_read
from schema.context import Context
from schema.relay import Node, from_global_id
from services.errors import BadUserInput, NotFound

MAX_NODES = 100


def _locate(global_id: str) -> tuple[registry.NodeType, int]:
    type_name, pk = from_global_id(global_id)
    found = registry.node_types().get(type_name)
    if found is None:
        raise BadUserInput(f"Identifiant invalide : type « {type_name[:40]} » inconnu.", field="id")
    return found, pk


async def _load(ctx: Context, node: registry.NodeType, pk: int) -> Node | None:
    found = await node.loader(ctx).load(pk)
    return node.convert(found) if found is not None else None


@registry.query
@strawberry.type
class NodeQueries:
    @public_read(
        description="The object with this global ID (a NOT_FOUND error when "
        "it does not exist or is not visible to you)."
    )
    async def node(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global ID.")],
    ) -> Node | None:
        found = await _load(info.context, *_locate(id))
        if found is None:
            raise NotFound(f"Aucun objet visible ne porte l'identifiant « {id} ».", field="id")
        return found

    @public_read(
        description="Objects by global IDs, in the same order (at most 100); "
        "null for those that do not exist or are not visible to you."
    )
    async def nodes(
        self,
        info: strawberry.Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global IDs.")],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise BadUserInput(f"Au plus {MAX_NODES} identifiants par requête.", field="ids")
        located = [_locate(i) for i in ids]
        return list(await asyncio.gather(*(_load(info.context, t, pk) for t, pk in located)))
