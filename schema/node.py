"""``node(id:)`` and ``nodes(ids:)``: any object by its global ID, through its loader."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader

from schema.concepts.loaders import concept_by_id
from schema.concepts.types import Concept
from schema.context import Context
from schema.events.loaders import event_by_id
from schema.events.types import Event
from schema.organizations.loaders import organization_by_id
from schema.organizations.types import Organization
from schema.projects.loaders import membership_by_id, shared_project_by_id
from schema.projects.types import Membership, SharedProject
from schema.relay import Node, from_global_id
from schema.resources.loaders import resource_by_id
from schema.resources.types import Resource
from schema.territories.loaders import territory_by_id
from schema.territories.types import Territory
from schema.themes.loaders import theme_by_id
from schema.themes.types import Theme
from schema.votes.loaders import voting_round_by_id
from schema.votes.types import VotingRound
from services.errors import BadUserInput, NotFound

_Loader = Callable[[Context], DataLoader[int, Any]]
_TYPES: dict[str, tuple[_Loader, Callable[[Any], Node]]] = {
    "Resource": (resource_by_id, Resource.from_model),
    "Theme": (theme_by_id, Theme.from_model),
    "Concept": (concept_by_id, Concept.from_model),
    "Event": (event_by_id, Event.from_model),
    "Organization": (organization_by_id, Organization.from_model),
    "Territory": (territory_by_id, Territory.from_model),
    "SharedProject": (shared_project_by_id, SharedProject.from_model),
    "Membership": (membership_by_id, Membership.from_model),
    "VotingRound": (voting_round_by_id, VotingRound.from_model),
}

MAX_NODES = 100


def _locate(global_id: str) -> tuple[str, int]:
    type_name, pk = from_global_id(global_id)
    if type_name not in _TYPES:
        raise BadUserInput(f"Identifiant invalide : type « {type_name[:40]} » inconnu.", field="id")
    return type_name, pk


async def _load(ctx: Context, type_name: str, pk: int) -> Node | None:
    loader, convert = _TYPES[type_name]
    found = await loader(ctx).load(pk)
    return convert(found) if found is not None else None


@strawberry.type
class NodeQueries:
    @strawberry.field(
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

    @strawberry.field(
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
