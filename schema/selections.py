"""The fields an operation selects on an object type, collected as the specification's
CollectFields says, over graphql-core's public syntax tree: response keys in document
order, aliases, fields merged across fragments and inline fragments (on the type itself
or on an interface or union it belongs to), ``@skip`` and ``@include`` applied.

Both planners collect with it: the compiled plans (:mod:`schema.execution`) and the read
compiler (:mod:`schema.compiler.plan`). A plan is made for given values of the variables
``@skip``/``@include`` read (:func:`switch_variables`); any other directive
on a selection (``@defer``, ``@stream``) and fragment variables are :class:`Unsupported`:
graphql-core executes those documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    is_abstract_type,
    visit,
)

_SKIP_INCLUDE = frozenset({"skip", "include"})


class Unsupported(Exception):
    """The document uses something a planner leaves to another executor."""


def switch_variables(
    operation: OperationDefinitionNode, fragments: Mapping[str, Any]
) -> tuple[str, ...]:
    """Variables that ``@skip``/``@include`` read: a plan depends on their values."""
    names: set[str] = set()

    class Directives(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            if node.name.value in _SKIP_INCLUDE:
                for argument in node.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        names.add(argument.value.name.value)

    visit(operation, Directives())
    for definition in fragments.values():
        visit(definition, Directives())
    return tuple(sorted(names))


class Selections:
    """Collects the fields of selection sets of one operation, for ``switches`` (the
    values of the variables ``@skip``/``@include`` read)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        switches: Mapping[str, Any],
    ) -> None:
        if any(f.variable_definitions for f in fragments.values()):
            raise Unsupported("fragment variables")
        self.schema = schema
        self.fragments = fragments
        self.switches = switches

    def fields(
        self, type_: GraphQLObjectType, selection_sets: Sequence[SelectionSetNode | None]
    ) -> dict[str, list[FieldNode]]:
        """``{response key: [field node, …]}`` of ``selection_sets`` (those of one field's
        nodes, merged) on an object of ``type_``."""
        found: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            if selection_set is not None:
                self._collect(type_, selection_set, found, visited)
        return found

    def _collect(
        self,
        type_: GraphQLObjectType,
        selection_set: SelectionSetNode,
        found: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                found.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, type_):
                    self._collect(type_, selection.selection_set, found, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = self.fragments[name]
                if self._applies(fragment.type_condition.name.value, type_):
                    self._collect(type_, fragment.selection_set, found, visited)

    def _applies(self, condition: str, type_: GraphQLObjectType) -> bool:
        if condition == type_.name:
            return True
        named = self.schema.get_type(condition)
        return is_abstract_type(named) and self.schema.is_sub_type(named, type_)  # type: ignore[arg-type]

    def _included(self, selection: Any) -> bool:
        for directive in selection.directives or ():
            name = directive.name.value
            if name not in _SKIP_INCLUDE:
                raise Unsupported(f"the directive @{name}")
            argument = directive.arguments[0].value
            if isinstance(argument, VariableNode):
                value = self.switches.get(argument.name.value)
            elif isinstance(argument, BooleanValueNode):
                value = argument.value
            else:
                raise Unsupported("a directive argument")
            if bool(value) != (name == "include"):
                return False
        return True
