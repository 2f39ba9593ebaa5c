"""Limits on what one request may ask: depth, aliases, tokens, and a cost budget.

The cost of a query is computed before it runs: every field costs 1, and what is
selected under a list costs as many times as the list may hold — `first` (or the default
page size) for connections, the number of IDs for `nodes`, :data:`LIST_FACTOR` for other
lists. A query over budget is refused with ``QUERY_TOO_COSTLY`` without touching the
database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
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
    TypeInfo,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    parse,
)
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension

LIST_FACTOR = 5


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int
    default_page_size: int


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class _Measure:
    def __init__(self, context: ValidationContext, limits: Limits) -> None:
        self.context = context
        self.limits = limits
        self.fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d
            for d in context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self.aliases = 0

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
                return None  # known at execution only: counted at the page maximum
        return None

    def _multiplier(self, node: FieldNode, field_def: Any, parent: Any) -> int:
        _, is_list = _unwrap(field_def.type)
        if getattr(parent, "name", "").endswith("Connection"):
            return 1  # edges/nodes: the connection's `first` already counted them
        if "first" in field_def.args:
            given = self._int_arg(node, "first")
            if given is None:
                has_variable = any(a.name.value == "first" for a in node.arguments or ())
                given = 100 if has_variable else self.limits.default_page_size
            return max(given, 1)
        if "ids" in field_def.args:
            return max(self._int_arg(node, "ids") or 100, 1)
        return LIST_FACTOR if is_list else 1

    def _possible(self, parent: Any) -> list[Any]:
        if isinstance(parent, GraphQLInterfaceType | GraphQLUnionType):
            return list(self.context.schema.get_possible_types(parent))
        return [parent]

    def selection(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        depth: int,
        seen: frozenset[str] = frozenset(),
    ) -> tuple[int, int]:
        """(cost, depth) of a selection set on ``parent``."""
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
                    continue  # unknown fields are reported by the standard rules
                child = get_named_type(field_def.type)
                sub_cost, sub_depth = self.selection(item.selection_set, child, depth + 1, seen)
                cost += 1 + self._multiplier(item, field_def, parent) * sub_cost
                deepest = max(deepest, sub_depth)
            elif isinstance(item, InlineFragmentNode):
                target = parent
                if item.type_condition is not None:
                    target = self.context.schema.get_type(item.type_condition.name.value) or parent
                sub_cost, sub_depth = self.selection(item.selection_set, target, depth, seen)
                cost, deepest = cost + sub_cost, max(deepest, sub_depth)
            elif isinstance(item, FragmentSpreadNode):
                name = item.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue  # unknown or cyclic fragments are reported by standard rules
                target = self.context.schema.get_type(fragment.type_condition.name.value)
                sub_cost, sub_depth = self.selection(
                    fragment.selection_set, target, depth, seen | {name}
                )
                cost, deepest = cost + sub_cost, max(deepest, sub_depth)
        return cost, deepest


def limits_rule(limits: Limits) -> type[ValidationRule]:
    class QueryLimits(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            root = self.context.schema.get_root_type(node.operation)
            if root is None:
                return
            measure = _Measure(self.context, limits)
            cost, depth = measure.selection(node.selection_set, root, 0)
            checks = (
                (
                    depth > limits.max_depth,
                    "QUERY_TOO_DEEP",
                    f"Requête trop profonde : {depth} niveaux (maximum {limits.max_depth}).",
                ),
                (
                    measure.aliases > limits.max_aliases,
                    "TOO_MANY_ALIASES",
                    f"Trop d'alias : {measure.aliases} (maximum {limits.max_aliases}).",
                ),
                (
                    cost > limits.max_cost,
                    "QUERY_TOO_COSTLY",
                    f"Requête trop coûteuse : {cost} (budget {limits.max_cost}). "
                    "Réduisez « first » ou le nombre de champs imbriqués.",
                ),
            )
            for failed, code, message in checks:
                if failed:
                    self.report_error(
                        GraphQLError(message, node, extensions={"code": code, "cost": cost})
                    )
                    return

    return QueryLimits


def limit_extensions(limits: Limits) -> list[Any]:
    """Strawberry extensions enforcing ``limits`` (as factories)."""
    rule = limits_rule(limits)

    def validation() -> SchemaExtension:
        return AddValidationRules([rule])

    def tokens() -> SchemaExtension:
        return MaxTokensLimiter(max_token_count=limits.max_tokens)

    return [tokens, validation]


def parse_document(text: str, *, max_tokens: int) -> DocumentNode:
    """Parse ``text``, refusing documents of more than ``max_tokens`` tokens."""
    try:
        return parse(text, max_tokens=max_tokens)
    except GraphQLError as error:
        raise GraphQLError(error.message, extensions={"code": "GRAPHQL_PARSE_FAILED"}) from None


def check_limits(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, limits: Limits
) -> GraphQLError | None:
    """The refusal of ``document`` by ``limits`` (depth, aliases, cost), or None."""
    errors: list[GraphQLError] = []
    context = ValidationContext(schema, document, TypeInfo(schema), errors.append)
    rule = limits_rule(limits)(context)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None
            or (definition.name is not None and definition.name.value == operation_name)
        ):
            rule.enter_operation_definition(definition)
            if errors:
                return errors[0]
    return None
