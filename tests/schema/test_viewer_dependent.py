"""Fields whose value depends on who asks are marked ``@viewerDependent`` on the schema,
which is what the response cache reads. This test finds them by behaviour: it resolves
every field of every type, as each kind of caller, with a viewer that records which field
was resolving whenever something read who the viewer is (role, account, territory, key…),
directly or in a DataLoader the field started. Each such field must carry the mark, and
each marked field must be seen reading the viewer (a stale mark fails too).

Visibility (drafts for editors, published content for everyone else) does not count: it
is ``Viewer.sees_unpublished`` and ``services.viewer.visible``, part of every cache key.
"""

from __future__ import annotations

import contextvars
import dataclasses
import inspect
import sys
from typing import Any

from strawberry.extensions import SchemaExtension

from schema import build_schema
from schema.context import Context
from schema.directives import ViewerDependent
from schema.strawberry_compat import graphql_core_schema
from services.accounts.service import resolve_bearer
from services.viewer import ANONYMOUS, Viewer
from tests.schema.querygen import root_documents

_RESOLVING: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "resolving", default=None
)


class _Trace(SchemaExtension):
    """Remembers, while a field resolves, which field it is."""

    async def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        token = _RESOLVING.set((info.parent_type.name, info.field_name))
        try:
            result = _next(root, info, *args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result
        finally:
            _RESOLVING.reset(token)


def _marked(schema) -> set[tuple[str, str]]:
    marked = set()
    for type_name, graphql_type in graphql_core_schema(schema).type_map.items():
        for field_name in getattr(graphql_type, "fields", {}) or {}:
            field = schema.get_field_for_type(field_name, type_name)
            if field is not None and any(isinstance(d, ViewerDependent) for d in field.directives):
                marked.add((type_name, field_name))
    return marked


# Whether the viewer sees unpublished content is visibility; reading it, or hashing the
# viewer into a loader's key, is not reading who the viewer is.
_VISIBILITY = {"visible", "visible_values", "sees_unpublished", "__hash__", "__eq__"}
# ``as_of`` is when the viewer reads (a newsletter's date), not who it is: like visibility,
# it is not per caller (HTTP requests never set it).
_READS = ({f.name for f in dataclasses.fields(Viewer)} - {"as_of"}) | {"is_editor"}


@dataclasses.dataclass(frozen=True)
class _TracingViewer(Viewer):
    """A viewer that notes which field was resolving when it was asked who it is."""

    def __getattribute__(self, name: str) -> Any:
        if name in _READS:
            field = _RESOLVING.get()
            frames = [sys._getframe(depth).f_code.co_name for depth in range(1, 8)]
            if field is not None and not _VISIBILITY.intersection(frames):
                _CONSULTED.add(field)

        return super().__getattribute__(name)


_CONSULTED: set[tuple[str, str]] = set()


async def test_every_field_that_reads_the_viewer_is_marked(database, principals):
    from services.subscribers.service import Consent, subscribe

    # Every kind of row with a private field exists, so that each field is resolved.
    await subscribe(
        "viewer-dependent@example.org", consent=Consent(ip="", source="test", wording_version="t")
    )
    schema = build_schema(database, extra_extensions=[_Trace])
    roots = {"Query", "Mutation", "Subscription"}
    viewers = [ANONYMOUS]
    for name in ("PARTNER_KEY_READ", "EDITOR", "LOCAL_AUTHORITY", "PARTNER", "ADMIN"):
        viewers.append(await resolve_bearer(principals[name]["Authorization"].split()[1]))
    documents = root_documents(graphql_core_schema(schema), depth=4)
    _CONSULTED.clear()
    for viewer in viewers:
        tracing = _TracingViewer(
            **{f.name: getattr(viewer, f.name) for f in dataclasses.fields(Viewer)}
        )
        for document in documents.values():
            # Root fields some callers may not use answer FORBIDDEN: nothing to trace there.
            await schema.execute(document, context_value=Context(settings=database, viewer=tracing))

    consulted = {field for field in _CONSULTED if field[0] not in roots}
    marked = _marked(schema)
    assert consulted, "the trace saw nothing: is the extension still called?"
    assert consulted - marked == set(), "read the viewer but are not @viewerDependent"
    assert marked - consulted == set(), "marked @viewerDependent but never read the viewer"
