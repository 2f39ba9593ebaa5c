"""Relay building blocks: the ``Node`` interface, global IDs, connections, page arguments."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from services.errors import BadUserInput
from services.pagination import Page, PageRequest
from services.settings import Settings

T = TypeVar("T")

First = Annotated[
    int | None, strawberry.argument(description="Page size (default 20, at most 100).")
]
After = Annotated[
    str | None, strawberry.argument(description="Cursor (`pageInfo.endCursor`) to continue after.")
]


def to_global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def from_global_id(global_id: str) -> tuple[str, int]:
    """``(type name, primary key)`` of a global ID; ``BAD_USER_INPUT`` when malformed."""
    try:
        type_name, _, raw_pk = base64.b64decode(global_id, validate=True).decode().partition(":")
        pk = int(raw_pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput(
            f"Identifiant invalide : « {global_id[:60]} » n'est pas un ID renvoyé par l'API.",
            field="id",
        ) from None
    if not type_name or pk < 1:
        raise BadUserInput(f"Identifiant invalide : « {global_id[:60]} ».", field="id")
    return type_name, pk


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    pk: strawberry.Private[int]

    @strawberry.field(description="Global, opaque identifier of the object.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(type(self).__name__, self.pk))


@strawberry.type(description="Where a page sits in the whole list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when a page follows this one.")
    has_previous_page: bool = strawberry.field(
        description="True when this page was asked for with `after` (rows precede it)."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge: pass it as `after` to get the next page."
    )


@strawberry.type(description="A node and its cursor.")
class Edge(Generic[T]):
    item: strawberry.Private[Any]
    page: strawberry.Private[Page[Any]]
    node: T = strawberry.field(description="The object.")

    @strawberry.field(description="Opaque position of this node in the list.")
    def cursor(self) -> str:
        # Encoded only when asked for: most pages are read without their cursors.
        return self.page.cursor(self.item)


@strawberry.type(description="A page of a list (Relay connection, keyset-paginated).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The objects of this page.")
    page_info: PageInfo = strawberry.field(description="Pagination information.")

    @strawberry.field(description="The objects of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def connection(page: Page[Any], convert: Callable[[Any], Any]) -> Any:
    """Turn a service ``Page`` into a GraphQL connection, converting each row."""
    edges = [Edge(item=item, page=page, node=convert(item)) for item in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.start_cursor,
            end_cursor=page.end_cursor,
        ),
    )


async def child_connection(
    info: Any,
    loader: Callable[[Any, Any, PageRequest], Any],
    parent_pk: int,
    convert: Callable[[Any], Any],
    *,
    order: Any,
    first: int | None,
    after: str | None,
) -> Any:
    """A reverse relation's page (a theme's resources…) through its batched page loader."""
    request = page_request(info.context.settings, first, after)
    page = await loader(info.context, order, request).load(parent_pk)
    return connection(page, convert)


def page_request(settings: Settings, first: int | None, after: str | None) -> PageRequest:
    """Check ``first``/``after`` against the configured page sizes."""
    maximum = settings.max_page_size
    size = settings.default_page_size if first is None else first
    if not 0 <= size <= maximum:
        raise BadUserInput(
            f"« first » doit être compris entre 0 et {maximum} (reçu : {size}).", field="first"
        )
    return PageRequest(first=size, after=after or None)


def decode_ids(ids: Iterable[strawberry.ID], type_name: str, field: str) -> list[int]:
    """Primary keys of global IDs that must all be of ``type_name``."""
    pks = []
    for global_id in ids:
        found, pk = from_global_id(global_id)
        if found != type_name:
            raise BadUserInput(
                f"« {field} » attend des identifiants de type {type_name} (reçu : {found}).",
                field=field,
            )
        pks.append(pk)
    return pks


def decode_id(global_id: strawberry.ID, type_name: str, field: str = "id") -> int:
    """Primary key of a global ID that must be of ``type_name``."""
    return decode_ids([global_id], type_name, field)[0]
