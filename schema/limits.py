"""Limits on what one request may ask: depth, aliases, tokens, and a cost budget.

The cost of a query is computed before it runs: every field costs 1, and what is
selected under a list costs as many times as the list may hold — `first` or `last` (or
the default page size) for connections, the number of IDs for `nodes`, :data:`LIST_FACTOR` for other
lists. Depth counts nested fields; aliases count every aliased field that would execute,
so an alias inside a fragment spread three times counts three times. A query over a
limit is refused (``QUERY_TOO_DEEP``, ``TOO_MANY_ALIASES``, ``QUERY_TOO_COSTLY``)
without touching the database.

The analysis is linear in the size of the document: each fragment is measured once, the
first time it is spread, and its contribution — (cost, depth below it, aliases) —
is reused at every other spread, multiplied by the lists above it rather than walked
again. A fragment does not depend on where it is spread (its fields are looked up on
its own type condition), so one memo per document is exact. Counts saturate at a
ceiling above the limits, so a chain of fragments that each spread the previous one
twice reports « at least the ceiling » instead of growing without bound. The walk is
iterative (no recursion limit) and stops after a budget of steps proportional to the
token limit, refusing with ``QUERY_TOO_COMPLEX``; a document within the token limit
never needs that many.

:func:`check_limits` is the whole check as a pure function of graphql-core values and
:func:`parse_document` parses under the token limit: the gateway's guards call both
before a document reaches validation and execution, whatever the transport.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    GraphQLSyntaxError,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    parse,
)

LIST_FACTOR = 5
# `first` or `last` given by a variable is known at execution only: counted at the page maximum, as
# is `nodes(ids:)` given by a variable.
VARIABLE_PAGE_SIZE = 100
# Every step of the analysis consumes at least one token of the document (a field name,
# the `...` of a fragment), so a document within the token limit takes fewer steps than
# tokens; the slack only matters for documents parsed without that limit.
STEPS_PER_TOKEN = 4
# Cost and aliases stop growing here (or just above the limits, if these are larger).
SATURATION = 10**9


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int
    default_page_size: int

    @property
    def max_steps(self) -> int:
        """Steps the analysis of one document may take before it is refused."""
        return STEPS_PER_TOKEN * self.max_tokens

    @property
    def ceiling(self) -> int:
        """Where cost and aliases saturate: any value there is over its limit."""
        return max(SATURATION, self.max_cost + 1, self.max_aliases + 1)


@dataclass(frozen=True)
class Measure:
    """What one operation asks for, fragments expanded as they would execute; ``cost``
    and ``aliases`` are capped at :attr:`Limits.ceiling`."""

    cost: int
    depth: int
    aliases: int


class _Exhausted(Exception):
    """The analysis used up its steps."""


class _Frame:
    """A selection set being measured: where it is, and what it sums so far.

    ``multiplier`` says how it folds into the frame below it on the stack: ``None`` for a
    fragment (flat: same level, same lists), a number for the selection of a field (one
    level deeper, its cost that many times). ``fragment`` names the fragment whose body
    this is, memoised when the frame completes.
    """

    __slots__ = (
        "aliases",
        "cost",
        "depth",
        "fragment",
        "multiplier",
        "next",
        "parent",
        "selections",
    )

    def __init__(
        self,
        selections: Sequence[SelectionNode],
        parent: Any,
        multiplier: int | None,
        fragment: str | None = None,
    ) -> None:
        self.selections = selections
        self.parent = parent
        self.multiplier = multiplier
        self.fragment = fragment
        self.next = 0
        self.cost = self.depth = self.aliases = 0


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class _Analysis:
    """Measures the operations of one document, sharing the fragments' memo and the budget
    of steps between them."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, limits: Limits) -> None:
        self.schema = schema
        self.limits = limits
        self.ceiling = limits.ceiling
        self.steps_left = limits.max_steps
        self.fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, tuple[int, int, int]] = {}
        # Fragments being measured: spreading one of them again is a cycle, which the
        # standard rules refuse; it adds nothing here.
        self.open: set[str] = set()
        self.fields: dict[tuple[str | None, str], Any] = {}

    def measure(self, operation: OperationDefinitionNode) -> Measure:
        """Raises :class:`_Exhausted` when the budget of steps runs out."""
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return Measure(0, 0, 0)
        cost, depth, aliases = self._walk(_Frame(operation.selection_set.selections, root, None))
        return Measure(cost, depth, aliases)

    def _walk(self, root: _Frame) -> tuple[int, int, int]:
        stack = [root]
        while True:
            frame = stack[-1]
            if frame.next == len(frame.selections):
                stack.pop()
                if frame.fragment is not None:
                    self.memo[frame.fragment] = (frame.cost, frame.depth, frame.aliases)
                    self.open.discard(frame.fragment)
                if not stack:
                    return frame.cost, frame.depth, frame.aliases
                self._fold(stack[-1], frame.multiplier, frame.cost, frame.depth, frame.aliases)
                continue
            item = frame.selections[frame.next]
            frame.next += 1
            self.steps_left -= 1
            if self.steps_left < 0:
                raise _Exhausted
            if isinstance(item, FieldNode):
                if item.alias is not None:
                    frame.aliases = min(frame.aliases + 1, self.ceiling)
                name = item.name.value
                if name.startswith("__"):
                    continue
                field_def = self._field(frame.parent, name)
                if field_def is None:
                    continue  # unknown fields are reported by the standard rules
                multiplier = self._multiplier(item, field_def, frame.parent)
                if item.selection_set is None:
                    self._fold(frame, multiplier, 0, 0, 0)
                else:
                    child = get_named_type(field_def.type)
                    stack.append(_Frame(item.selection_set.selections, child, multiplier))
            elif isinstance(item, InlineFragmentNode):
                target = frame.parent
                if item.type_condition is not None:
                    target = self.schema.get_type(item.type_condition.name.value) or target
                stack.append(_Frame(item.selection_set.selections, target, None))
            elif isinstance(item, FragmentSpreadNode):
                name = item.name.value
                known = self.memo.get(name)
                if known is not None:
                    self._fold(frame, None, *known)
                    continue
                fragment = self.fragments.get(name)
                if fragment is None or name in self.open:
                    continue  # unknown or cyclic fragments are reported by standard rules
                self.open.add(name)
                target = self.schema.get_type(fragment.type_condition.name.value)
                stack.append(_Frame(fragment.selection_set.selections, target, None, name))

    def _fold(
        self, frame: _Frame, multiplier: int | None, cost: int, depth: int, aliases: int
    ) -> None:
        """Adds a completed selection (a field's, or a fragment's) into ``frame``."""
        if multiplier is None:
            frame.cost = min(frame.cost + cost, self.ceiling)
            frame.depth = max(frame.depth, depth)
        else:
            frame.cost = min(frame.cost + 1 + multiplier * cost, self.ceiling)
            frame.depth = max(frame.depth, depth + 1)
        frame.aliases = min(frame.aliases + aliases, self.ceiling)

    def _field(self, parent: Any, name: str) -> Any:
        """The definition of field ``name`` on ``parent`` (on one of its object types when
        it is abstract), or None."""
        key = (getattr(parent, "name", None), name)
        if key not in self.fields:
            found = None
            possible = [parent]
            if isinstance(parent, GraphQLInterfaceType | GraphQLUnionType):
                possible = list(self.schema.get_possible_types(parent))
            for candidate in possible:
                if isinstance(candidate, GraphQLObjectType | GraphQLInterfaceType):
                    found = candidate.fields.get(name)
                    if found:
                        break
            self.fields[key] = found
        return self.fields[key]

    def _int_arg(self, node: FieldNode, name: str) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return self._int(value.value)
            if isinstance(value, ListValueNode):
                return len(value.values)
            if isinstance(value, VariableNode):
                return None  # known at execution only: counted at the page maximum
        return None

    def _int(self, digits: str) -> int:
        """An integer literal, saturated: a literal of thousands of digits is not converted
        (Python refuses it) and needs not be."""
        if len(digits) > 18:
            return -1 if digits.startswith("-") else self.ceiling
        return min(int(digits), self.ceiling)

    def _page_size(self, node: FieldNode) -> int:
        """The most rows a connection's page may hold: the larger of `first` and `last`
        (both are refused at execution, but a refused query costs nothing more), a page
        size given by a variable at the maximum, the default page size when neither."""
        sizes = []
        for name in ("first", "last"):
            given = self._int_arg(node, name)
            if given is None and any(a.name.value == name for a in node.arguments or ()):
                given = VARIABLE_PAGE_SIZE
            if given is not None:
                sizes.append(given)
        return max(sizes) if sizes else self.limits.default_page_size

    def _multiplier(self, node: FieldNode, field_def: Any, parent: Any) -> int:
        _, is_list = _unwrap(field_def.type)
        if getattr(parent, "name", "").endswith("Connection"):
            return 1  # edges/nodes: the connection's `first` already counted them
        if "first" in field_def.args or "last" in field_def.args:
            return max(self._page_size(node), 1)
        if "ids" in field_def.args:
            return max(self._int_arg(node, "ids") or VARIABLE_PAGE_SIZE, 1)
        return LIST_FACTOR if is_list else 1

    def check(self, operation: OperationDefinitionNode) -> GraphQLError | None:
        """The refusal of ``operation``, or None when it is within the limits."""
        limits = self.limits
        try:
            measure = self.measure(operation)
        except _Exhausted:
            return GraphQLError(
                "Requête trop complexe à analyser : plus de "
                f"{limits.max_steps} sélections à parcourir.",
                operation,
                extensions={"code": "QUERY_TOO_COMPLEX"},
            )
        cost, depth, aliases = measure.cost, measure.depth, measure.aliases
        checks = (
            (
                depth > limits.max_depth,
                "QUERY_TOO_DEEP",
                f"Requête trop profonde : {depth} niveaux (maximum {limits.max_depth}).",
            ),
            (
                aliases > limits.max_aliases,
                "TOO_MANY_ALIASES",
                f"Trop d'alias : {self._amount(aliases)} (maximum {limits.max_aliases}).",
            ),
            (
                cost > limits.max_cost,
                "QUERY_TOO_COSTLY",
                f"Requête trop coûteuse : {self._amount(cost)} (budget {limits.max_cost}). "
                "Réduisez « first » (ou « last ») ou le nombre de champs imbriqués.",
            ),
        )
        for failed, code, message in checks:
            if failed:
                return GraphQLError(message, operation, extensions={"code": code, "cost": cost})
        return None

    def _amount(self, value: int) -> str:
        return f"au moins {value}" if value >= self.ceiling else str(value)


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    limits: Limits,
) -> Measure | None:
    """(cost, depth, aliases) of ``operation``, or None when measuring it would take more
    than ``limits.max_steps`` steps."""
    try:
        return _Analysis(schema, document, limits).measure(operation)
    except _Exhausted:
        return None


def check_limits(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    limits: Limits,
) -> GraphQLError | None:
    """The refusal of the operation that ``operation_name`` selects in ``document``, or
    None when it is within ``limits``.

    The refusal carries ``extensions.code`` — ``QUERY_TOO_DEEP``, ``TOO_MANY_ALIASES``,
    ``QUERY_TOO_COSTLY`` (checked in that order, with ``extensions.cost``) or
    ``QUERY_TOO_COMPLEX`` (the analysis itself took too long) — a French message, and the
    location of the operation. When no single operation is selected (several without a
    name, or an unknown name), every operation of the document is checked: what may run
    is within the limits. Pure in its arguments: the same inputs give the same answer.
    """
    analysis = _Analysis(schema, document, limits)
    selected = get_operation_ast(document, operation_name)
    operations = (
        [selected]
        if selected is not None
        else [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    )
    for operation in operations:
        error = analysis.check(operation)
        if error is not None:
            return error
    return None


def parse_document(text: str, *, max_tokens: int) -> DocumentNode | GraphQLError:
    """``text`` parsed, or the syntax error to answer (``GRAPHQL_PARSE_FAILED``, with its
    location). Parsing stops after ``max_tokens`` tokens (comments included) and on a
    document nested too deeply for the parser, both with a French message."""
    try:
        return parse(text, max_tokens=max_tokens)
    except GraphQLSyntaxError as error:
        description = error.description
        if description.startswith("Document contains more than"):
            message = f"Requête trop longue : plus de {max_tokens} jetons (tokens)."
        elif description.startswith("Document is nested too deeply"):
            message = "Requête trop imbriquée pour être lue."
        else:
            message = f"Erreur de syntaxe : {description}"
        return GraphQLError(
            message,
            source=error.source,
            positions=error.positions,
            extensions={"code": "GRAPHQL_PARSE_FAILED"},
        )
