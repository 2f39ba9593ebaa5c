"""Relay building blocks: the ``Node`` interface, global IDs, connections, page arguments."""

from __future__ import annotations

import base64
import binascii
import importlib
import json
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from schema.context import Context
from services.errors import BadUserInput
from services.pagination import Count, Page, PageRequest, count_statements
from services.settings import Settings

T = TypeVar("T")

First = Annotated[
    int | None,
    strawberry.argument(
        description="Page size from the start, or after `after` (default 20, at most 100)."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(description="Cursor (`pageInfo.endCursor`): the page starts after it."),
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description="Page size from the end, or before `before` (at most 100; not with `first`)."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(description="Cursor (`pageInfo.startCursor`): the page ends before it."),
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
    has_next_page: bool = strawberry.field(
        description="True when rows follow this page: with `first`, when there are more "
        "(or it was asked for with `before`); with `last`, when it was asked for with `before`."
    )
    has_previous_page: bool = strawberry.field(
        description="True when rows precede this page: with `last`, when there are more "
        "(or it was asked for with `after`); with `first`, when it was asked for with `after`."
    )
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first edge: pass it as `before` to get the previous page."
    )
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
    page: strawberry.Private[Page[Any]]

    @strawberry.field(description="The objects of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(
        description="How many objects the whole list holds: every page, same filter and "
        "visibility. Counted only when selected."
    )
    async def total_count(self, info: strawberry.Info) -> int:
        return await total_count(info.context, self.page)


@dataclass(frozen=True)
class _CountOf:
    """A list to count: equal when it is the same list, whichever page asks."""

    list_key: Hashable
    count: Count = field(compare=False, hash=False)


async def _count_lists(keys: Sequence[_CountOf]) -> dict[_CountOf, int]:
    statements = [key.count.statement() for key in keys]
    counts = await count_statements(statements)
    return {key: counts[found] for key, found in zip(keys, statements, strict=True)}


async def total_count(ctx: Context, page: Page[Any]) -> int:
    """The size of the list ``page`` was cut from, counted once per request however many
    pages of that list ask (aliases, `first` and `last` side by side)."""
    count = page.count
    if count.known is not None:
        return count.known
    key = page.same_list() if page.same_list is not None else count.statement()
    return await ctx.loader("total_count", _count_lists).load(_CountOf(key, count))


def connection(page: Page[Any], convert: Callable[[Any], Any]) -> Any:
    """Turn a service ``Page`` into a GraphQL connection, converting each row."""
    edges = [Edge(item=item, page=page, node=convert(item)) for item in page.items]
    return Connection(
        page=page,
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
    last: int | None = None,
    before: str | None = None,
) -> Any:
    """A reverse relation's page (a theme's resources…) through its batched page loader."""
    request = page_request(info, first, after, last, before)
    page = await loader(info.context, order, request).load(parent_pk)
    return connection(page, convert)


def children_field(description: str, *, node: str, orders: str, pages: str) -> Any:
    """A field of a parent type listing its children as a connection (``Theme.resources``),
    a page at a time through the batched page loader ``pages``, with the page arguments
    and an optional ``order``. ``node`` and ``orders`` name the child's GraphQL type and
    its enumeration of orders (``schema.resources.types.Resource``), ``pages`` the loader
    (``schema.resources.loaders.resource_pages_by_theme_id``): each is found by its
    module's path when the schema is built or the field resolves, as the parent's and the
    child's modules refer to each other."""
    node_module, node_name = node.rsplit(".", 1)
    order_module, order_name = orders.rsplit(".", 1)
    pages_module, pages_name = pages.rsplit(".", 1)

    async def resolve(
        self: Any,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order: Any = None,
    ) -> Any:
        loader = getattr(importlib.import_module(pages_module), pages_name)
        node_type = getattr(importlib.import_module(node_module), node_name)
        return await child_connection(
            info,
            loader,
            self.pk,
            node_type.from_model,
            order=order,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    ordering = Annotated[order_name, strawberry.lazy(order_module)]
    resolve.__annotations__ = {
        "info": strawberry.Info,
        "first": First,
        "after": After,
        "last": Last,
        "before": Before,
        "order": Annotated[
            ordering | None,
            strawberry.argument(description="Sort order."),
        ],
        "return": Connection[Annotated[node_name, strawberry.lazy(node_module)]],
    }
    return strawberry.field(resolve, description=description)


def page_request(
    info: strawberry.Info,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> PageRequest:
    """Check the page arguments against the configured page sizes: ``first`` or ``last``
    (not both), each from 0 to the maximum; ``first`` defaults to the default page size.

    Cursors are scoped to the field they were returned by (``Theme.resources``…): one
    from another list is refused when the page is read."""
    scope = f"{info.path.typename}.{info.field_name}"
    # A root list is told apart by its arguments; the other lists count the rows they
    # already hold (a count query of theirs would be keyed by its statement).
    same_list = partial(_list_arguments, scope, info) if info.path.prev is None else None
    return checked_page_request(
        info.context.settings, first, after, last, before, scope=scope, same_list=same_list
    )


def checked_page_request(
    settings: Settings,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    *,
    scope: str,
    same_list: Callable[[], Hashable] | None = None,
) -> PageRequest:
    """:func:`page_request` for the list ``scope`` (``Query.resources``…)."""
    if first is not None and last is not None:
        raise BadUserInput(
            "« first » et « last » ne peuvent pas être donnés ensemble : « first » lit la "
            "liste depuis le début (ou après « after »), « last » depuis la fin (ou avant "
            "« before »).",
            field="last",
        )
    maximum = settings.graphql.max_page_size
    name, size = ("last", last) if last is not None else ("first", first)
    if size is None:
        size = settings.graphql.default_page_size
    if not 0 <= size <= maximum:
        raise BadUserInput(
            f"« {name} » doit être compris entre 0 et {maximum} (reçu : {size}).", field=name
        )
    return PageRequest(
        first=size if name == "first" else None,
        last=size if name == "last" else None,
        after=after or None,
        before=before or None,
        scope=scope,
        same_list=same_list,
    )


_PAGE_ARGUMENTS = frozenset({"first", "last", "after", "before"})


def _list_arguments(scope: str, info: strawberry.Info) -> Hashable:
    """``scope`` and the field's arguments but the page's: what tells one list from
    another in a request (same filter, same order, same rows)."""
    selected = info.selected_fields[0]  # merged selections of one key share arguments
    arguments = {k: v for k, v in selected.arguments.items() if k not in _PAGE_ARGUMENTS}
    return (scope, json.dumps(arguments, sort_keys=True, default=str))


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
