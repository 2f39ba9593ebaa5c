"""The executor the mailer composes with: a GraphQL document run through the same
schema partners query, with a given viewer's rights, at the viewer's moment: a viewer
reading ``as_of`` a date (a newsletter's) gets a context whose clock is that date, so
every field that depends on « now » answers as of then."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError

from mailer.compose import ExecutionOutcome, Executor
from schema.context import Context
from schema.errors import classify
from services.settings import Settings
from services.viewer import Viewer


def _error_dict(error: GraphQLError) -> dict[str, Any]:
    shown = classify(error)
    return shown.formatted  # message, locations, path, extensions.code


def build_executor(schema: Any, settings: Settings, *, search: Any = None) -> Executor:
    """An :data:`~mailer.compose.Executor` over ``schema``."""

    async def execute(
        document: str, variables: Mapping[str, Any], viewer: Viewer
    ) -> ExecutionOutcome:
        context = Context(settings=settings, viewer=viewer, search=search)
        if viewer.as_of is not None:
            context.now = viewer.as_of
        result = await schema.execute(
            document, variable_values=dict(variables), context_value=context
        )
        errors = [_error_dict(e) for e in result.errors or []]
        return ExecutionOutcome(data=result.data, errors=errors)

    return execute
