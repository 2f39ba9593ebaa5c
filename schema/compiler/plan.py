"""From a read-only GraphQL operation to its plan: what each response key reads.

A plan is made once per document and values of the ``@skip``/``@include`` variables
(:mod:`schema.compiler.run` keeps them). It walks the document with graphql-core's public
syntax tree, collecting fields as the specification says (aliases, fragments, inline
fragments, field merging, ``@skip``/``@include``), and knows only what the table of
coverage below names. Anything else raises :class:`Unsupported`, and the operation goes to
the ordinary executor.

What is covered:

- root fields: the lists read as connections and the lookups that the domains declare
  (``listed`` and ``by_slug`` of :func:`schema.compiler.coverage.compiled_table`:
  ``resources``, ``resource``…), each answered from the service's own query set, and
  ``node(id:)``/``nodes(ids:)`` of the declared types with a lookup by id
  (:func:`located`);
- on the objects of the declared types (:func:`schema.compiler.coverage.compiled_table`):
  ``id``, ``__typename``, every field Strawberry reads as a plain attribute of the model,
  ``<field>Label`` for an enumerated column, the children reached through a link table,
  the objects a statement of the services ranks (``Resource.related``), the connections of
  a parent's children through a link table (``Theme.resources``…), and private fields
  (``Resource.rejectionReason``) for the viewers the schema's own rule lets read them on
  every object;
- on connections: ``totalCount``, ``edges { cursor node }``, ``nodes``, ``pageInfo``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_argument_values,
    get_nullable_type,
)
from tortoise.models import Model

from schema import registry
from schema.compiler.coverage import Ranking, Source, Table, connection_of, roots, tables
from schema.nodes.queries import MAX_NODES
from schema.relay import from_global_id, to_global_id
from schema.selections import Selections, Unsupported
from schema.strawberry_compat import definition_of, plain_attribute
from services.compat_tortoise import column_of, enum_of, keeps_utc, pk_column, value_converters
from services.labels import label
from services.links import Linked, LinkedPages
from services.viewer import Viewer

MAX_LOCATED = 32
"""Plans kept per plan with ``node``/``nodes`` roots, one per combination of types."""

# Fields of a JSON object, in one SQL function call: PostgreSQL takes 100 arguments.
MAX_FIELDS = 50
_AS_IS = (GraphQLString, GraphQLInt, GraphQLID)


@dataclass(frozen=True)
class Column:
    """A value read from a column; ``convert`` makes the response's value of the raw one
    (None: the raw value is the response's)."""

    key: str
    column: str
    convert: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Constant:
    """``__typename``."""

    key: str
    value: str


@dataclass
class Children:
    """The children reached through a link table, each an object of ``plan``."""

    key: str
    linked: Linked
    plan: ObjectPlan


@dataclass
class Related:
    """The objects ``ranking`` lists for a parent (``Resource.related``), each an object of
    ``plan``; ``first`` is read from ``node`` per request."""

    key: str
    field: GraphQLField
    node: FieldNode
    ranking: Ranking
    plan: ObjectPlan


@dataclass
class ObjectPlan:
    """The fields selected on a row of ``model``'s table."""

    model: type[Model]
    fields: list[Column | Constant | Children | Related | Pages] = field(default_factory=list)
    converted: list[tuple[str, Callable[[Any], Any]]] = field(default_factory=list)
    """``(key, convert)`` of the values Python finishes (IDs, dates, enums, labels)."""

    def nested(self) -> list[Children | Related]:
        """The fields listing objects of their own."""
        return [f for f in self.fields if isinstance(f, Children | Related)]

    def connections(self) -> list[Pages]:
        return [f for f in self.fields if isinstance(f, Pages)]

    def with_conversions(self) -> ObjectPlan:
        self.converted = [
            (f.key, f.convert) for f in self.fields if isinstance(f, Column) and f.convert
        ]
        return self


@dataclass
class ConnectionPlan:
    """A list read as a connection; ``items`` are ``(key, kind, detail)`` in response
    order: ``typename`` (name), ``count``, ``nodes`` (index in ``objects``), ``edges`` and
    ``page_info`` (their own items)."""

    key: str
    field: GraphQLField
    node: FieldNode
    source: Source | None
    """How the service selects the rows of a root list (None: a :class:`Pages`)."""
    model: type[Model]
    objects: list[ObjectPlan] = field(default_factory=list)
    items: list[tuple[str, str, Any]] = field(default_factory=list)
    count: bool = False
    rows: bool = False
    cursors: bool = False
    kept_pages: OrderedDict[Hashable, Any] = field(
        default_factory=OrderedDict, compare=False, repr=False
    )
    """A root list's statements kept per viewer and arguments (``run.ReadCompiler``)."""


@dataclass
class Pages:
    """A parent's children through a link table read as a connection (``Theme.resources``
    …), as the services declare it; its arguments are read per request, its cursors are
    those of the list ``scope``."""

    key: str
    pages: LinkedPages
    scope: str
    plan: ConnectionPlan


@dataclass
class LookupPlan:
    """One object or null, from a query set of at most one row."""

    key: str
    field: GraphQLField
    node: FieldNode
    source: Source
    plan: ObjectPlan


@dataclass
class NodePlan:
    """``node(id:)`` (or ``nodes(ids:)``, ``many``): an object plan for each type of
    :func:`node_tables`, or why there is none; which one applies is told per request by the
    IDs (:func:`located`)."""

    key: str
    field: GraphQLField
    node: FieldNode
    many: bool
    plans: dict[str, ObjectPlan | str]


@dataclass
class LookupsPlan:
    """``nodes(ids:)`` in one request: a lookup per ID, None for an ID of a type not
    served (null)."""

    key: str
    field: GraphQLField
    node: FieldNode
    items: list[LookupPlan | None]


@dataclass
class OperationPlan:
    """The root fields of an operation, in response order (``__typename``: a string)."""

    roots: list[ConnectionPlan | LookupPlan | LookupsPlan | NodePlan | Constant]
    embedded: list[tuple[str, Any]] = field(default_factory=list)
    """What each statement embedded in the plan's statement is (``sql.slots``)."""
    guards: tuple[Callable[[Viewer], bool], ...] = ()
    """Rules of the private fields it reads (:class:`~schema.compiler.coverage.Private`):
    each must let the viewer read them, or the ordinary executor answers."""
    located: dict[tuple[Any, ...], OperationPlan] = field(default_factory=dict)
    """Its plans for the types of the IDs of its ``node``/``nodes`` roots met lately."""
    types: tuple[Any, ...] = ()
    """The types of those IDs, in a plan of :attr:`located`."""
    finishers: dict[int, Any] = field(default_factory=dict)
    """How Python finishes each object of the plan, by the ``id`` of its
    :class:`ObjectPlan` (``run.finishers``)."""

    def __post_init__(self) -> None:
        self.has_nodes = any(isinstance(root, NodePlan) for root in self.roots)


def located(
    plan: OperationPlan, variables: Any, prepare: Callable[[OperationPlan], OperationPlan]
) -> OperationPlan:
    """``plan`` with each ``node``/``nodes`` root a lookup of the type of its ID in this
    request, as the resolver locates it (``schema.registry.node_types``): null for a type
    not served (kept per combination of types, made ready by ``prepare`` once, as the
    plan itself was). An ID that cannot be decoded
    (``BAD_USER_INPUT``) raises ``DomainError``, too many IDs ``ValueError``, a type served
    but not covered :class:`Unsupported`."""
    if not plan.has_nodes:
        return plan
    served = registry.node_types()
    found: list[tuple[str | None, ...]] = []
    for root in plan.roots:
        if isinstance(root, NodePlan):
            args = get_argument_values(root.field, root.node, variables)
            ids = args["ids"] if root.many else [args["id"]]
            if len(ids) > MAX_NODES:
                raise ValueError(f"more than {MAX_NODES} IDs")
            types = []
            for global_id in ids:
                type_name = from_global_id(global_id)[0]
                if type_name not in served:
                    types.append(None)
                elif isinstance(root.plans.get(type_name, ""), str):
                    raise Unsupported(f"node(id:) of a {type_name}")
                else:
                    types.append(type_name)
            found.append(tuple(types))
    key = tuple(found)
    variant = plan.located.get(key)
    if variant is None:
        planned: list[ConnectionPlan | LookupPlan | LookupsPlan | NodePlan | Constant] = []
        types_of = iter(found)
        for root in plan.roots:
            if not isinstance(root, NodePlan):
                planned.append(root)
                continue
            items = [
                None
                if type_name is None
                else LookupPlan(
                    root.key,
                    root.field,
                    root.node,
                    partial(_node, tables()[type_name].by_id, root.many, index),
                    root.plans[type_name],  # type: ignore[arg-type]
                )
                for index, type_name in enumerate(next(types_of))
            ]
            if root.many:
                planned.append(LookupsPlan(root.key, root.field, root.node, items))
            else:
                planned.append(items[0] or Constant(root.key, None))  # type: ignore[arg-type]
        variant = prepare(OperationPlan(planned, guards=plan.guards, types=key))
        if len(plan.located) >= MAX_LOCATED:
            del plan.located[next(iter(plan.located))]
        plan.located[key] = variant
    return variant


def _node(
    by_id: Callable[[Viewer, int], Any],
    many: bool,
    index: int,
    viewer: Viewer,
    args: dict[str, Any],
    now: Any,
) -> Any:
    global_id = args["ids"][index] if many else args["id"]
    return by_id(viewer, from_global_id(global_id)[1])


def node_tables() -> list[Table]:
    """The declared types that ``node(id:)`` is answered for."""
    return [table for table in tables().values() if table.by_id is not None]


class Planner:
    """Builds the :class:`OperationPlan` of one operation and switch values."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        switches: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.selections = Selections(schema, fragments, switches)
        self.guards: dict[Callable[[Viewer], bool], None] = {}

    def plan(self) -> OperationPlan:
        if self.operation.operation is not OperationType.QUERY:
            raise Unsupported(f"a {self.operation.operation.value}")
        query = self.schema.query_type
        assert query is not None
        planned: list[ConnectionPlan | LookupPlan | LookupsPlan | NodePlan | Constant] = []
        for key, nodes in self.collect(query, [self.operation.selection_set]).items():
            name = nodes[0].name.value
            if name == "__typename":
                planned.append(Constant(key, query.name))
                continue
            root = roots().get(name)
            if root is None and name not in ("node", "nodes"):
                raise Unsupported(f"the root field {name}")
            field_def = query.fields[name]
            returned = get_nullable_type(field_def.type)
            if root is None:
                planned.append(self.node(key, field_def, nodes, many=name == "nodes"))
            elif root.kind == "connection":
                planned.append(self.connection(key, field_def, nodes, returned, root.source))
            else:
                plan = self.object(returned, nodes)
                planned.append(LookupPlan(key, field_def, nodes[0], root.source, plan))
        return OperationPlan(planned, guards=tuple(self.guards))

    def node(
        self, key: str, field_def: GraphQLField, nodes: list[FieldNode], many: bool
    ) -> NodePlan:
        plans: dict[str, ObjectPlan | str] = {}
        for table in node_tables():
            type_name = table.type_name
            try:
                plans[type_name] = self.object(self.schema.get_type(type_name), nodes)
            except Unsupported as error:
                plans[type_name] = str(error)
        if all(isinstance(plan, str) for plan in plans.values()):
            raise Unsupported(next(iter(plans.values())))
        return NodePlan(key, field_def, nodes[0], many, plans)

    def collect(
        self, type_: GraphQLObjectType, selection_sets: Sequence[SelectionSetNode | None]
    ) -> dict[str, list[FieldNode]]:
        """Fields by response key, as the specification's CollectFields merges them."""
        return self.selections.fields(type_, selection_sets)

    def object(self, type_: Any, nodes: list[FieldNode]) -> ObjectPlan:
        table = tables().get(type_.name) if isinstance(type_, GraphQLObjectType) else None
        if table is None:
            raise Unsupported(f"the type {type_}")
        model = table.model
        converters = value_converters(model)
        plan = ObjectPlan(model)
        selected = self.collect(type_, [n.selection_set for n in nodes])
        if len(selected) > MAX_FIELDS:
            raise Unsupported("too many fields in one object")
        for key, field_nodes in selected.items():
            name = field_nodes[0].name.value
            ranking = table.ranked.get(name)
            if ranking is not None:
                field_def = type_.fields[name]
                child = self.object(get_nullable_type(field_def.type).of_type.of_type, field_nodes)
                plan.fields.append(Related(key, field_def, field_nodes[0], ranking, child))
                continue
            pages = connection_of(type_.name, name)
            if pages is not None:
                field_def = type_.fields[name]
                returned = get_nullable_type(field_def.type)
                connection = self.connection(key, field_def, field_nodes, returned, None)
                if connection.model is not pages.linked.child_model:
                    raise Unsupported(f"the field {type_.name}.{name}")
                # Its arguments are checked with its rows, read even when none is selected.
                connection.rows = connection.rows or not connection.count
                plan.fields.append(Pages(key, pages, f"{type_.name}.{name}", connection))
                continue
            if field_nodes[0].arguments:
                raise Unsupported(f"arguments of {type_.name}.{name}")
            if name == "__typename":
                plan.fields.append(Constant(key, type_.name))
                continue
            field_def = type_.fields.get(name)
            if field_def is None:
                raise Unsupported(f"the field {type_.name}.{name}")
            linked = table.links.get(name)
            if linked is not None:
                child = self.object(get_nullable_type(field_def.type).of_type.of_type, field_nodes)
                if child.model is not linked.child_model:
                    raise Unsupported(f"the field {type_.name}.{name}")
                plan.fields.append(Children(key, linked, child))
                continue
            plan.fields.append(self.leaf(table, converters, key, name, field_def))
        return plan.with_conversions()

    def leaf(
        self,
        table: Table,
        converters: dict[str, Callable[[Any], Any] | None],
        key: str,
        name: str,
        field_def: GraphQLField,
    ) -> Column:
        type_name, model = table.type_name, table.model
        if name == "id":
            return Column(key, pk_column(model), partial(to_global_id, type_name))
        strawberry_field = definition_of(field_def)
        python_name = getattr(strawberry_field, "python_name", None)
        attribute = plain_attribute(strawberry_field) if strawberry_field else None
        graphql_type = field_def.type
        private = table.private.get(name)
        if private is not None:
            attribute = private.attribute
            self.guards[private.reads_every] = None
        if attribute is not None and attribute in converters:
            convert = converters[attribute]
            if convert is None and get_nullable_type(graphql_type) in _AS_IS:
                return Column(key, column_of(model, attribute))
            serializer = _serializer(convert, graphql_type)
            return Column(key, column_of(model, attribute), _by_value(model, attribute, serializer))
        enum_attribute = (python_name or "").removesuffix("_label")
        if (
            python_name
            and python_name.endswith("_label")
            and converters.get(enum_attribute) is not None
            and get_nullable_type(graphql_type) is GraphQLString
            and not field_def.args
        ):
            labeller = partial(_label, converters[enum_attribute])
            column = column_of(model, enum_attribute)
            return Column(key, column, _by_value(model, enum_attribute, labeller))
        raise Unsupported(f"the field {type_name}.{name}")

    def connection(
        self,
        key: str,
        field_def: GraphQLField,
        nodes: list[FieldNode],
        type_: Any,
        source: Source | None,
    ) -> ConnectionPlan:
        node_type = get_nullable_type(type_.fields["nodes"].type).of_type.of_type
        table = tables().get(node_type.name)
        if table is None:
            raise Unsupported(f"a connection of {node_type.name}")
        plan = ConnectionPlan(key, field_def, nodes[0], source, table.model)
        for item_key, item_nodes in self.collect(type_, [n.selection_set for n in nodes]).items():
            name = item_nodes[0].name.value
            if name == "__typename":
                plan.items.append((item_key, "typename", type_.name))
            elif name == "totalCount":
                plan.count = True
                plan.items.append((item_key, "count", None))
            elif name == "nodes":
                plan.rows = True
                node_type = get_nullable_type(type_.fields[name].type).of_type.of_type
                plan.objects.append(self.object(node_type, item_nodes))
                plan.items.append((item_key, "nodes", len(plan.objects) - 1))
            elif name == "edges":
                plan.rows = True
                plan.items.append((item_key, "edges", self.edges(plan, type_, item_nodes)))
            elif name == "pageInfo":
                plan.rows = True
                plan.items.append((item_key, "page_info", self.page_info(plan, type_, item_nodes)))
            else:
                raise Unsupported(f"the field {type_.name}.{name}")
        return plan

    def edges(
        self, plan: ConnectionPlan, type_: Any, nodes: list[FieldNode]
    ) -> list[tuple[str, str, Any]]:
        edge_type = get_nullable_type(type_.fields["edges"].type).of_type.of_type
        items: list[tuple[str, str, Any]] = []
        for key, field_nodes in self.collect(edge_type, [n.selection_set for n in nodes]).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                items.append((key, "typename", edge_type.name))
            elif name == "cursor":
                plan.cursors = True
                items.append((key, "cursor", None))
            elif name == "node":
                node_type = get_nullable_type(edge_type.fields["node"].type)
                plan.objects.append(self.object(node_type, field_nodes))
                items.append((key, "node", len(plan.objects) - 1))
            else:
                raise Unsupported(f"the field {edge_type.name}.{name}")
        return items

    def page_info(
        self, plan: ConnectionPlan, type_: Any, nodes: list[FieldNode]
    ) -> list[tuple[str, str, Any]]:
        info_type = get_nullable_type(type_.fields["pageInfo"].type)
        items: list[tuple[str, str, Any]] = []
        for key, field_nodes in self.collect(info_type, [n.selection_set for n in nodes]).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                items.append((key, "typename", info_type.name))
            elif name in ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor"):
                plan.cursors = plan.cursors or name.endswith("Cursor")
                items.append((key, name, None))
            else:
                raise Unsupported(f"the field {info_type.name}.{name}")
        return items


def _serializer(convert: Callable[[Any], Any] | None, graphql_type: Any) -> Callable[[Any], Any]:
    """Raw value → the model's value (as Tortoise converts it) → the response's value (as
    graphql-core serialises it)."""
    nullable = get_nullable_type(graphql_type)
    if isinstance(nullable, GraphQLList | GraphQLNonNull):
        raise Unsupported("a list column")
    serialize = nullable.serialize
    if (
        not isinstance(nullable, GraphQLEnumType)
        and nullable
        not in (
            *_AS_IS,
            GraphQLBoolean,
            GraphQLFloat,
        )
        and nullable.name not in ("DateTime", "Date")
    ):
        raise Unsupported(f"the scalar {nullable.name}")
    serializer = partial(_serialize, convert, serialize)
    if serialize is dt.datetime.isoformat and keeps_utc(convert):
        return partial(_utc_text, serializer)
    return serializer


_UTC_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{5}[1-9])?\+00:00"
).fullmatch


def _utc_text(serializer: Callable[[Any], Any], raw: Any) -> Any:
    """``serializer(raw)`` of a datetime column kept in UTC. ISO text of an instant in
    UTC, to the second or with six digits of fraction not ending in 0, as PostgreSQL
    writes it in JSON, is already what ``isoformat`` gives back (the costly part of a
    date's conversion) once it is a real instant; anything else is converted."""
    if type(raw) is str and _UTC_TEXT(raw) is not None:
        try:
            dt.datetime.fromisoformat(raw)
        except ValueError:
            return serializer(raw)
        return raw
    return serializer(raw)


def _serialize(
    convert: Callable[[Any], Any] | None, serialize: Callable[[Any], Any], raw: Any
) -> Any:
    value = raw if convert is None else convert(raw)
    return None if value is None else serialize(value)


def _by_value(
    model: type[Model], attribute: str, convert: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """``convert``, answered from a table of its results for the values of an enumerated
    column (computed once, by ``convert`` itself)."""
    enum_type = enum_of(model, attribute)
    if enum_type is None:
        return convert
    table = {member.value: convert(member.value) for member in enum_type}
    return partial(_looked_up, table, convert)


def _looked_up(table: dict[Any, Any], convert: Callable[[Any], Any], raw: Any) -> Any:
    found = table.get(raw, _MISSING)
    return convert(raw) if found is _MISSING else found


_MISSING = object()


def _label(convert: Callable[[Any], Any], raw: Any) -> str:
    return label(convert(raw))
