"""The memoised query analysis against the plain recursive walk, on generated documents.

:class:`ReferenceMeasure` walks every fragment again at each spread: exponential on
hostile documents, but obviously right. On seeded random documents — fragments spreading
fragments, inline fragments, aliases, nested lists and connections, `first` and `last` as
literals and variables, `nodes(ids:)` — both must give the same (cost, depth, aliases), and
:func:`schema.limits.check_limits` the refusal those numbers call for.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import graphql
import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_composite_type,
    is_leaf_type,
)

from schema import build_schema
from schema.limits import LIST_FACTOR, Limits, check_limits, measure
from services.settings import Settings

DOCUMENTS = 800


class ReferenceMeasure:
    """Cost, depth and aliases of an operation by walking every spread in full."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, page_size: int) -> None:
        self.schema = schema
        self.page_size = page_size
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.aliases = 0

    def operation(self, operation: OperationDefinitionNode) -> tuple[int, int, int]:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0, 0, 0
        cost, depth = self.selection(operation.selection_set, root, 0)
        return cost, depth, self.aliases

    def _int_arg(self, node: FieldNode, name: str) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, ListValueNode):
                return len(value.values)
            if isinstance(value, VariableNode):
                return None
        return None

    def _multiplier(self, node: FieldNode, field_def: Any, parent: Any) -> int:
        type_, is_list = field_def.type, False
        while isinstance(type_, GraphQLNonNull | GraphQLList):
            is_list = is_list or isinstance(type_, GraphQLList)
            type_ = type_.of_type
        if getattr(parent, "name", "").endswith("Connection"):
            return 1
        if "first" in field_def.args or "last" in field_def.args:
            sizes = []
            for name in ("first", "last"):
                given = self._int_arg(node, name)
                if given is None and any(a.name.value == name for a in node.arguments or ()):
                    given = 100
                if given is not None:
                    sizes.append(given)
            return max(max(sizes) if sizes else self.page_size, 1)
        if "ids" in field_def.args:
            return max(self._int_arg(node, "ids") or 100, 1)
        return LIST_FACTOR if is_list else 1

    def _possible(self, parent: Any) -> list[Any]:
        if isinstance(parent, GraphQLInterfaceType | GraphQLUnionType):
            return list(self.schema.get_possible_types(parent))
        return [parent]

    def selection(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        depth: int,
        seen: frozenset[str] = frozenset(),
    ) -> tuple[int, int]:
        if selection_set is None:
            return 0, depth
        cost, deepest = 0, depth
        for item in selection_set.selections:
            if isinstance(item, FieldNode):
                if item.alias is not None:
                    self.aliases += 1
                name = item.name.value
                if name.startswith("__"):
                    continue
                field_def = None
                for candidate in self._possible(parent):
                    if isinstance(candidate, GraphQLObjectType | GraphQLInterfaceType):
                        field_def = candidate.fields.get(name)
                        if field_def:
                            break
                if field_def is None:
                    continue
                child = get_named_type(field_def.type)
                sub_cost, sub_depth = self.selection(item.selection_set, child, depth + 1, seen)
                cost += 1 + self._multiplier(item, field_def, parent) * sub_cost
                deepest = max(deepest, sub_depth)
            elif isinstance(item, InlineFragmentNode):
                target = parent
                if item.type_condition is not None:
                    target = self.schema.get_type(item.type_condition.name.value) or parent
                sub_cost, sub_depth = self.selection(item.selection_set, target, depth, seen)
                cost, deepest = cost + sub_cost, max(deepest, sub_depth)
            elif isinstance(item, FragmentSpreadNode):
                name = item.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                sub_cost, sub_depth = self.selection(
                    fragment.selection_set, target, depth, seen | {name}
                )
                cost, deepest = cost + sub_cost, max(deepest, sub_depth)
        return cost, deepest


def reference_code(numbers: tuple[int, int, int], limits: Limits) -> str | None:
    cost, depth, aliases = numbers
    if depth > limits.max_depth:
        return "QUERY_TOO_DEEP"
    if aliases > limits.max_aliases:
        return "TOO_MANY_ALIASES"
    if cost > limits.max_cost:
        return "QUERY_TOO_COSTLY"
    return None


class DocumentGenerator:
    """Random documents over the real schema: valid-looking queries a client could send,
    plus the odd unknown field or misplaced spread."""

    def __init__(self, schema: GraphQLSchema, rng: random.Random) -> None:
        self.schema = schema
        self.rng = rng
        self.fragments: list[tuple[str, str]] = []  # (name, type condition)
        self.variables: list[str] = []
        self.aliases = 0

    def document(self) -> str:
        rng = self.rng
        definitions = []
        types = ["Resource", "Theme", "Event", "Organization", "Territory", "Node"]
        types += ["ResourceConnection", "Query"]
        for index in range(rng.choice([0, 1, 2, 3, 4, 6, 8])):
            on = rng.choice(types)
            body = self.selection(self.schema.get_type(on), rng.randint(1, 3))
            definitions.append(f"fragment F{index} on {on} {body}")
            self.fragments.append((f"F{index}", on))
        operations = []
        for number in range(rng.choice([1, 1, 1, 2])):
            self.variables = []
            body = self.selection(self.schema.query_type, rng.randint(2, 5))
            header = ", ".join(f"${v}: Int" for v in self.variables)
            header = f"({header})" if header else ""
            operations.append(f"query Q{number}{header} {body}")
        rng.shuffle(definitions)
        return "\n".join(operations + definitions)

    def selection(self, type_: Any, depth: int) -> str:
        rng = self.rng
        items = []
        for _ in range(rng.randint(1, 4)):
            roll = rng.random()
            usable = [name for name, on in self.fragments if self._fits(on, type_)]
            if roll < 0.25:
                if usable:
                    items.append("..." + rng.choice(usable))
            elif roll < 0.27:
                if self.fragments:
                    items.append("..." + rng.choice(self.fragments)[0])  # wherever it lands
            elif roll < 0.37:
                target = type_
                condition = ""
                if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
                    target = rng.choice(list(self.schema.get_possible_types(type_)))
                    condition = f"on {target.name} "
                elif rng.random() < 0.5:
                    condition = f"on {type_.name} "
                items.append(f"... {condition}{self.selection(target, depth)}")
            else:
                items.append(self.field(type_, depth))
        return "{ " + " ".join(items or ["__typename"]) + " }"

    def _fits(self, on: str, type_: Any) -> bool:
        if on == type_.name:
            return True
        if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
            return any(t.name == on for t in self.schema.get_possible_types(type_))
        return False

    def field(self, type_: Any, depth: int) -> str:
        rng = self.rng
        fields = getattr(type_, "fields", {})
        candidates = [
            (name, f)
            for name, f in fields.items()
            if depth > 0 or is_leaf_type(get_named_type(f.type))
        ]
        if not candidates or rng.random() < 0.05:
            return rng.choice(["__typename", "colour", "t: __typename"])
        if type_ is self.schema.query_type and rng.random() < 0.2 and "nodes" in fields:
            name, definition = "nodes", fields["nodes"]
        else:
            name, definition = rng.choice(candidates)
        alias = ""
        if rng.random() < 0.15:
            self.aliases += 1
            alias = f"a{self.aliases}: "
        arguments = self.arguments(definition)
        child = get_named_type(definition.type)
        below = ""
        if is_composite_type(child):
            below = " " + self.selection(child, depth - 1)
        return f"{alias}{name}{arguments}{below}"

    def arguments(self, definition: Any) -> str:
        rng = self.rng
        given = []
        for name, argument in definition.args.items():
            if name in ("first", "last"):
                if rng.random() < (0.3 if name == "first" else 0.75):
                    continue
                choice = rng.random()
                if choice < 0.3:
                    variable = f"v{len(self.variables)}"
                    self.variables.append(variable)
                    given.append(f"{name}: ${variable}")
                elif choice < 0.37:
                    given.append(f"{name}: {rng.choice([0, -3, 1000])}")
                else:
                    given.append(f"{name}: {rng.randint(1, 120)}")
            elif name == "ids":
                if rng.random() < 0.2:
                    variable = f"v{len(self.variables)}"
                    self.variables.append(variable)
                    given.append(f"ids: ${variable}")
                else:
                    ids = ", ".join('"x"' for _ in range(rng.randint(0, 7)))
                    given.append(f"ids: [{ids}]")
            elif isinstance(argument.type, GraphQLNonNull):
                given.append(f'{name}: "x"')
        return f"({', '.join(given)})" if given else ""


@pytest.fixture(scope="module")
def graphql_schema(settings: Settings) -> GraphQLSchema:
    return graphql.build_schema(build_schema(settings).as_str())


@pytest.fixture(scope="module")
def settings_limits(settings: Settings) -> Limits:
    return Limits(
        max_depth=settings.graphql.max_query_depth,
        max_aliases=settings.graphql.max_aliases,
        max_tokens=settings.graphql.max_tokens,
        max_cost=settings.graphql.max_query_cost,
        default_page_size=settings.graphql.default_page_size,
    )


def test_memoised_analysis_matches_the_plain_walk(graphql_schema, settings_limits):
    rng = random.Random(20240611)
    seen: Counter[str] = Counter()
    for _ in range(DOCUMENTS):
        text = DocumentGenerator(graphql_schema, rng).document()
        document = graphql.parse(text)
        # The settings' limits, or tighter ones so that every refusal comes up.
        limits = settings_limits
        if rng.random() < 0.5:
            limits = Limits(
                max_depth=rng.randint(2, 8),
                max_aliases=rng.randint(0, 10),
                max_tokens=settings_limits.max_tokens,
                max_cost=rng.randint(10, 3000),
                default_page_size=rng.randint(1, 50),
            )
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        for operation in operations:
            expected = ReferenceMeasure(graphql_schema, document, limits.default_page_size)
            numbers = expected.operation(operation)
            got = measure(graphql_schema, document, operation, limits)
            assert got is not None, text
            assert (got.cost, got.depth, got.aliases) == numbers, text
            error = check_limits(graphql_schema, document, operation.name.value, limits)
            code = None if error is None else error.extensions["code"]
            assert code == reference_code(numbers, limits), text
            seen[code or "accepted"] += 1
            seen["fragments spread twice"] += any(n > 1 for n in _spreads(text).values())
            seen["aliases"] += numbers[2] > 0
            seen["lists under lists"] += numbers[0] > 1000
    # The generator reaches every outcome, and fragments used more than once.
    assert min(seen.values()) >= 50, seen


def _spreads(text: str) -> Counter[str]:
    return Counter(word for word in text.split() if word.startswith("...F"))


def test_a_document_spread_many_times_keeps_its_numbers(graphql_schema, settings_limits):
    limits = settings_limits
    text = """query {
      a: resources(first: 7) { nodes { ...R } }
      b: themes(first: 3) { nodes { resources(first: 4) { edges { node { ...R } } } } }
      nodes(ids: ["x", "y"]) { ...R ... on Theme { title } }
    }
    fragment R on Resource { x: title themes { ...T } ...T2 }
    fragment T on Theme { y: title events(first: 2) { nodes { title } } }
    fragment T2 on Resource { organizations { ...O } ...O2 }
    fragment O on Organization { z: name }
    fragment O2 on Resource { territories { name } }
    """
    document = graphql.parse(text)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    numbers = ReferenceMeasure(graphql_schema, document, limits.default_page_size).operation(
        operation
    )
    got = measure(graphql_schema, document, operation, limits)
    assert got is not None
    assert (got.cost, got.depth, got.aliases) == numbers
    # R is spread three times and holds three aliases (x, y through T, z through O).
    assert got.aliases == 2 + 3 * 3
