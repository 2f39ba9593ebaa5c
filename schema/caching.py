"""What the public response cache may keep, and what each kept answer reads, both derived
from the schema.

A root query field built with :func:`public_read` answers from published content alone
(its answer is the same for every anonymous caller until content changes); the gateway's
cache reads the mark from the schema (:func:`cacheable_root_fields`). Search is one too,
marked ``reads_index=True``: its index follows the database through the outbox, after a
write's commit, so its answers also change when the index catches up.

:class:`ReadSets` says which content types a document reads, from its selection: the
content types (``services.registry``) whose GraphQL types have fields selected, and for
the types around them — connections, edges, page info, a project's stages, a round's
ranking — the content type they belong to and the content types they list (a
``totalCount`` reads the rows it counts). An interface or a union reads every type that
may stand behind it. A root lookup by slug (:class:`Lookup`) reads one object of its
type, which the gateway finds when it computes the answer. The gateway keeps an answer
while none of what it read has changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_non_null_type,
)

from schema.strawberry_compat import graphql_core_schema
from services import registry

_MARK = "public_read"
_INDEX_MARK = "reads_search_index"

INDEX = "@index"
"""Read by answers computed from the search index: changes whenever the index applies
committed writes or falls behind them."""
_MAX_DEPTH = 64
ANY = "@any"
"""Read by answers whose reads could not be derived from the selection: changes with
every write."""


def public_read(*, reads_index: bool = False, **options: Any) -> Any:
    """``strawberry.field(...)`` for a root field answered from published content alone;
    ``reads_index`` when its answers come from the search index."""
    metadata = {**options.pop("metadata", {}), _MARK: True}
    if reads_index:
        metadata[_INDEX_MARK] = True
    return strawberry.field(metadata=metadata, **options)


def _marked_root_fields(schema: strawberry.Schema, mark: str) -> set[str]:
    query = graphql_core_schema(schema).query_type
    assert query is not None
    names = set()
    for name in query.fields:
        field = schema.get_field_for_type(name, query.name)
        if field is not None and field.metadata.get(mark):
            names.add(name)
    return names


def cacheable_root_fields(schema: strawberry.Schema) -> frozenset[str]:
    """Names of the root query fields marked :func:`public_read`, and introspection's."""
    return frozenset({"__typename", "__schema", "__type", *_marked_root_fields(schema, _MARK)})


@dataclass(frozen=True)
class Lookup:
    """A root field looking up one object of a content type by its slug, given in the
    document (``slug``) or by a variable (``variable``)."""

    type_name: str
    slug: str | None = None
    variable: str | None = None

    @property
    def tag(self) -> str:
        """Stands for the object among the tags until the slug's row is known."""
        return f"{self.type_name}#?{self.slug if self.variable is None else '$' + self.variable}"


@dataclass(frozen=True)
class Reads:
    """What an operation reads: tags, and the objects its root lookups return."""

    tags: frozenset[str]
    lookups: tuple[Lookup, ...] = ()


class ReadSets:
    """The content types a document reads, derived from its selection and the schema."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self._schema: GraphQLSchema = graphql_core_schema(schema)
        self._index_roots = frozenset(_marked_root_fields(schema, _INDEX_MARK))
        self._closures: dict[str, frozenset[str]] = {}

    def of(self, document: DocumentNode, operation_name: str | None) -> frozenset[str]:
        """The content types (and :data:`INDEX`, :data:`ANY`) read by the operation
        ``operation_name`` of ``document``, a lookup's object counted as its whole type."""
        reads = self.reads(document, operation_name)
        whole = {lookup.tag: lookup.type_name for lookup in reads.lookups}
        return frozenset(whole.get(tag, tag) for tag in reads.tags)

    def reads(self, document: DocumentNode, operation_name: str | None) -> Reads:
        """What the operation ``operation_name`` of ``document`` (a valid query document)
        reads: tags, the object of each root lookup by slug standing as its
        :attr:`Lookup.tag`."""
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is not None:
            operations = [o for o in operations if o.name and o.name.value == operation_name]
        query = self._schema.query_type
        if len(operations) != 1 or query is None:
            return Reads(frozenset({ANY}))
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        reads: set[str] = set()
        lookups: list[Lookup] = []
        for root, _ in self._typed_fields(operations[0].selection_set, query, fragments, set()):
            name = root.name.value
            if name.startswith("__"):
                continue  # introspection and __typename read the schema, not content
            found: set[str] = set()
            lookup = self._lookup(root, query)
            if lookup is not None:
                lookups.append(lookup)
            value = frozenset({lookup.tag}) if lookup is not None else None
            self._field(root, query, frozenset(), fragments, found, 0, value=value)
            if name in self._index_roots:
                found.add(INDEX)
            reads |= found or {ANY}
        return Reads(frozenset(reads), tuple(lookups))

    def _lookup(self, root: FieldNode, query: GraphQLObjectType) -> Lookup | None:
        """The lookup by slug ``root`` is, if it is one: a root field with a ``slug``
        argument returning one object of a content type."""
        definition = query.fields.get(root.name.value)
        if definition is None or "slug" not in definition.args:
            return None
        returned = definition.type.of_type if is_non_null_type(definition.type) else definition.type
        if not isinstance(returned, GraphQLObjectType):
            return None  # a list, or an abstract type
        if registry.content_type(returned.name) is None:
            return None
        for argument in root.arguments:
            if argument.name.value != "slug":
                continue
            if isinstance(argument.value, StringValueNode):
                return Lookup(returned.name, slug=argument.value.value)
            if isinstance(argument.value, VariableNode):
                return Lookup(returned.name, variable=argument.value.name.value)
        return None

    def _typed_fields(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType,
        fragments: dict[str, FragmentDefinitionNode],
        seen: set[str],
    ) -> list[tuple[FieldNode, GraphQLNamedType]]:
        """``(field, the type it is selected on)`` of a selection set, fragments flattened
        (each fragment once)."""
        found: list[tuple[FieldNode, GraphQLNamedType]] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                found.append((selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                on = self._condition(selection.type_condition, parent)
                found.extend(self._typed_fields(selection.selection_set, on, fragments, seen))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    fragment = fragments[name]
                    on = self._condition(fragment.type_condition, parent)
                    found.extend(self._typed_fields(fragment.selection_set, on, fragments, seen))
        return found

    def _condition(self, condition: Any, parent: GraphQLNamedType) -> GraphQLNamedType:
        if condition is None:
            return parent
        found = self._schema.get_type(condition.name.value)
        return found if found is not None else parent

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType,
        owner: frozenset[str],
        fragments: dict[str, FragmentDefinitionNode],
        reads: set[str],
        depth: int,
        *,
        value: frozenset[str] | None = None,
    ) -> None:
        """Add to ``reads`` what selecting ``node`` on ``parent`` (a value reading
        ``owner``) reads: the value it returns (``value`` when given: one object), and
        what its own selection reads. A leaf reads nothing more than its parent."""
        if depth > _MAX_DEPTH:
            reads.add(ANY)  # deeper than any document the limits admit: give up deriving
            return
        if node.selection_set is None or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return
        child = get_named_type(definition.type)
        child_reads = value if value is not None else self._tags(child, owner)
        reads |= child_reads
        for field, on in self._typed_fields(node.selection_set, child, fragments, set()):
            if field.name.value.startswith("__"):
                continue
            on_reads = child_reads if on is child else self._tags(on, owner)
            reads |= on_reads
            self._field(field, on, on_reads, fragments, reads, depth + 1)

    def _tags(self, type_: GraphQLNamedType, inherited: frozenset[str]) -> frozenset[str]:
        """What reading a value of ``type_`` reads: a content type is itself; an abstract
        type, whatever may stand behind it; any other object type, what it belongs to
        (``inherited``) and the content types it lists."""
        if is_abstract_type(type_):
            found: set[str] = set()
            for possible in self._schema.get_possible_types(type_):  # type: ignore[arg-type]
                found |= self._tags(possible, inherited)
            return frozenset(found)
        if not isinstance(type_, GraphQLObjectType):
            return inherited
        if registry.content_type(type_.name) is not None:
            return frozenset({type_.name})
        return inherited | self._closure(type_)

    def _closure(self, start: GraphQLObjectType) -> frozenset[str]:
        """The content types reachable from ``start`` through types that are none."""
        found = self._closures.get(start.name)
        if found is not None:
            return found
        reached: set[str] = set()
        seen: set[str] = set()
        stack: list[GraphQLNamedType] = [start]
        while stack:
            type_ = stack.pop()
            if type_.name in seen:
                continue
            seen.add(type_.name)
            if is_abstract_type(type_):
                stack.extend(self._schema.get_possible_types(type_))  # type: ignore[arg-type]
            elif isinstance(type_, GraphQLObjectType):
                if type_ is not start and registry.content_type(type_.name) is not None:
                    reached.add(type_.name)
                    continue
                stack.extend(get_named_type(f.type) for f in type_.fields.values())
        self._closures[start.name] = frozenset(reached)
        return self._closures[start.name]
