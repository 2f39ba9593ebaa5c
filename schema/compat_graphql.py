"""The places compiled execution (``schema/execution.py``) reaches past graphql-core's
public API, fenced in one module.

graphql-core (pinned in pyproject.toml) lets a subclass of its ``Executor`` customise
execution, but keeps the methods it builds a resolver's ``info`` and the response with
out of its public API (``:meta private:``); fields are collected from the public syntax
tree instead (:mod:`schema.selections`). Each function here names one such assumption;
``tests/compat/test_graphql_core.py`` checks each one, so an upgrade that breaks one fails
there, by name, instead of giving wrong answers or silently leaving the compiled path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from graphql import GraphQLSchema

T = TypeVar("T")

__all__ = [
    "complete_response",
    "resolve_info_builder",
    "schema_memo",
]


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
