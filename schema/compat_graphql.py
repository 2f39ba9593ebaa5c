"""The places compiled execution (``schema/execution.py``) reaches past graphql-core's
public API, fenced in one module.

graphql-core (pinned in pyproject.toml) lets a subclass of its ``Executor`` customise
execution, but keeps the methods it runs fields with out of its public API
(``:meta private:``), and marks its field collection « for internal use only ». Each
function here names one such assumption; ``tests/compat/test_graphql_core.py`` checks
each one, so an upgrade that breaks one fails there, by name, instead of giving wrong
answers or silently leaving the compiled path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from graphql import GraphQLObjectType, GraphQLSchema, OperationDefinitionNode
from graphql.execution.collect_fields import CollectedFields, FieldDetails
from graphql.execution.collect_fields import collect_fields as _collect_fields
from graphql.execution.collect_fields import collect_subfields as _collect_subfields

T = TypeVar("T")

__all__ = [
    "CollectedFields",
    "FieldDetails",
    "collect_child_fields",
    "collect_root_fields",
    "complete_response",
    "resolve_info_builder",
    "schema_memo",
]


def collect_root_fields(
    schema: GraphQLSchema,
    fragments: dict[str, Any],
    variable_values: Any,
    root_type: GraphQLObjectType,
    operation: OperationDefinitionNode,
    hide_suggestions: bool,
) -> CollectedFields:
    """graphql-core's own collection of an operation's root fields (fragments, aliases,
    ``@skip``/``@include``): ``(grouped field set, new defer usages, forbidden
    directives)``, the grouped set ``{response key: [FieldDetails, …]}``, each detail
    with ``node``, ``defer_usage`` and ``fragment_variable_values``."""
    return _collect_fields(
        schema, fragments, variable_values, root_type, operation, hide_suggestions
    )


def collect_child_fields(
    schema: GraphQLSchema,
    fragments: dict[str, Any],
    variable_values: Any,
    operation: OperationDefinitionNode,
    type_: GraphQLObjectType,
    details: list[FieldDetails],
    hide_suggestions: bool,
) -> CollectedFields:
    """The sub-fields the field nodes ``details`` select on ``type_``, collected and
    shaped as by :func:`collect_root_fields`."""
    return _collect_subfields(
        schema, fragments, variable_values, operation, type_, details, hide_suggestions
    )


def resolve_info_builder(executor: Any) -> Callable[..., Any]:
    """``build(field_def, field_nodes, parent_type, path)``: the ``GraphQLResolveInfo`` the
    executor would give a resolver (Strawberry's executor adds its own fields)."""
    return executor.build_resolve_info


def complete_response(executor: Any, data: dict[str, Any]) -> Any:
    """The executor's ``ExecutionResult`` for completed ``data``, with the errors it
    collected, checked against its abort signal as its own execution does."""
    return executor.finish(executor.build_response(data))


_memos: WeakKeyDictionary[GraphQLSchema, dict[str, Any]] = WeakKeyDictionary()


def schema_memo(schema: GraphQLSchema, name: str, make: Callable[[], T]) -> T:
    """``make()``, computed once per schema and ``name``, kept as long as the schema
    lives (nothing is written on graphql-core's object)."""
    memo = _memos.get(schema)
    if memo is None:
        memo = _memos[schema] = {}
    found = memo.get(name)
    if found is None:
        found = memo[name] = make()
    return found
