"""The read compiler: a read-only operation answered by one SQL statement that builds
its JSON in the database, as PostGraphile, Hasura and pg_graphql do.

:mod:`schema.compiler.plan` turns a document into a plan (what it covers is listed
there), :mod:`schema.compiler.sql` writes its statement for PostgreSQL or SQLite around
the services' own query sets, :mod:`schema.compiler.run` runs it. An operation the
compiler does not cover — a mutation, a field or argument it does not know, an argument
the services refuse — is executed by the ordinary
executor; the schema's execution context (:func:`read_compiling`) tries the compiler
first and counts each outcome.
"""

from __future__ import annotations

import inspect
from typing import Any

from graphql import OperationType

from schema.compat_graphql import complete_response
from schema.compiler.plan import OperationPlan
from schema.compiler.run import Outcome, ReadCompiler


def read_compiling(base: type[Any], on_outcome: Outcome | None = None) -> type[Any]:
    """An execution context class that answers queries through a :class:`ReadCompiler`
    of its own, and through ``base`` (its parent) otherwise."""
    compiler = ReadCompiler(on_outcome)

    class ReadCompiledExecutionContext(base):  # type: ignore[misc,valid-type]
        def execute_operation(self, serially: bool | None = None) -> Any:
            if (
                self.operation.operation is not OperationType.QUERY
                or serially
                or self.abort_signal is not None
                or (self.middleware_manager and self.middleware_manager.middlewares)
            ):
                compiler.outcome("fallback", "operation")
                return super().execute_operation(serially)
            plan = compiler.plan_for(self)
            if not isinstance(plan, OperationPlan):
                compiler.outcome("fallback", "unsupported")
                return super().execute_operation(serially)
            return self._read_compiled(plan, serially)

        async def _read_compiled(self, plan: OperationPlan, serially: bool | None) -> Any:
            data = await compiler.run(self, plan)
            if data is None:
                result = super().execute_operation(serially)
                return await result if inspect.isawaitable(result) else result
            return complete_response(self, data)

    ReadCompiledExecutionContext.compiler = compiler  # type: ignore[attr-defined]
    return ReadCompiledExecutionContext


__all__ = ["ReadCompiler", "read_compiling"]
