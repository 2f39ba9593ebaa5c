"""``node(id:)`` and ``nodes(ids:)``: any object of a type registered with
:func:`schema.registry.node_type` or :func:`schema.registry.other_node_type`, by its
global ID, through its loader.

An object the viewer may not read answers ``null`` without an error, exactly like one that
does not exist — a draft for an anonymous caller, a subscriber for a partner, an ID of a
type that is not served — so that nobody learns from the answer whether it exists. Only an
ID that cannot be decoded at all (not one the API hands out) is a coded ``BAD_USER_INPUT``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry

from schema import registry
from schema.caching import public_read
from schema.context import Context
from schema.relay import Node, from_global_id
from services.errors import BadUserInput

MAX_NODES = 100


def _locate(global_id: str) -> tuple[registry.NodeType | None, int]:
    type_name, pk = from_global_id(global_id)
    return registry.node_types().get(type_name), pk


async def _load(ctx: Context, node: registry.NodeType | None, pk: int) -> Node | None:
    if node is None:
        return None
    found = await node.loader(ctx).load(pk)
    return node.convert_for(ctx, found) if found is not None else None


@registry.query
@strawberry.type
class NodeQueries:
    @public_read(
        description="The object with this global ID; null when it does not exist or you may "
        "not read it (a BAD_USER_INPUT error only for an ID the API cannot have returned)."
    )
    async def node(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global ID.")],
    ) -> Node | None:
        return await _load(info.context, *_locate(id))

    @public_read(
        description="Objects by global IDs, in the same order (at most 100); "
        "null for those that do not exist or you may not read."
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
