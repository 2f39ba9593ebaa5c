"""The guard pipeline: what every GraphQL operation passes before it runs, whatever the
transport it came by — a POST, each operation of a batched POST, a GET, each ``subscribe``
message of a WebSocket.

The steps, in order (:data:`STEPS`):

1. **authentication** — the bearer secret (``Authorization`` header, or the
   ``connection_init`` payload of a WebSocket) becomes a viewer; a bad secret is refused
   with ``UNAUTHENTICATED``, never treated as anonymous. Done once per request or
   connection, before anything else.
2. **rate limit** — one unit per operation from the caller's budget
   (:mod:`gateway.ratelimit` says who pays).
3. **allow-list** — persisted queries: a hash-only request becomes its document, an
   unregistered document is refused in allow-list mode (:mod:`gateway.persisted`).
4. **document limits** — parse with a token ceiling, then depth and aliases.
5. **cost** — the cost analysis (:mod:`schema.limits`), linear in the document's size.

Then execution. A refusal at any step is a :class:`Refusal`, which each transport turns
into its own shape (an HTTP status, or a WebSocket ``error`` message) with the same code.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode

from gateway.metrics import Metrics
from gateway.persisted import PersistedQueries
from gateway.ratelimit import Budget, RateLimiter, Spent
from gateway.refusals import Refusal
from schema.limits import Limits, check_limits, parse_document
from services.accounts.service import resolve_bearer
from services.errors import Unauthenticated
from services.viewer import ANONYMOUS, Viewer

STEPS = ("authentication", "rate_limit", "allow_list", "document_limits", "cost")
"""Every step of the pipeline, in the order an operation passes them."""

_DOCUMENT_CACHE_SIZE = 512
_BAD_HEADER = "En-tête Authorization attendu sous la forme « Bearer <jeton> »."


class Transport(enum.Enum):
    """How an operation reached the gateway."""

    POST = "post"
    BATCH = "batch"
    GET = "get"
    WEBSOCKET = "websocket"


@dataclass(frozen=True)
class Caller:
    """Who sent a request or opened a connection, and which budget they pay from."""

    viewer: Viewer
    credentials: str | None
    address: str
    budget: Budget


@dataclass
class Operation:
    """One GraphQL operation as a client sent it, filled in as it passes the steps."""

    transport: Transport
    query: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None
    document: DocumentNode | None = None
    registered: bool = False
    """Its document is in the allow-list or the persisted store (named in metrics)."""

    @property
    def kind(self) -> str:
        """``query``, ``mutation`` or ``subscription`` (``invalid`` before parsing)."""
        definition = self.definition
        return definition.operation.value if definition is not None else "invalid"

    @property
    def name(self) -> str | None:
        """The operation's name as its document gives it."""
        definition = self.definition
        if definition is not None and definition.name is not None:
            return definition.name.value
        return self.operation_name

    @property
    def definition(self) -> OperationDefinitionNode | None:
        if self.document is None:
            return None
        found = [d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)]
        if self.operation_name is not None:
            found = [d for d in found if d.name is not None and d.name.value == self.operation_name]
        return found[0] if len(found) == 1 else None


def bearer_secret(authorization: str | None) -> str | None:
    """The secret of an ``Authorization: Bearer`` value; None when there is none."""
    if authorization is None:
        return None
    scheme, _, secret = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Refusal("UNAUTHENTICATED", _BAD_HEADER, status=401, step="authentication")
    return secret.strip()


class Guards:
    """The steps of :data:`STEPS`, for every transport."""

    def __init__(
        self,
        *,
        limiter: RateLimiter,
        persisted: PersistedQueries,
        schema: GraphQLSchema,
        limits: Limits,
        metrics: Metrics,
    ) -> None:
        self.limiter = limiter
        self.persisted = persisted
        self.schema = schema
        self.limits = limits
        self.metrics = metrics
        self._documents: OrderedDict[tuple[str, str | None], DocumentNode | GraphQLError] = (
            OrderedDict()
        )

    # --- 1. authentication -------------------------------------------------------------

    async def authenticate(self, authorization: str | None, address: str) -> Caller:
        """The caller behind ``authorization`` (an ``Authorization`` header's value).

        A token that fails to authenticate is charged to the address, and to the address's
        budget of failed authentications, which is checked before any token is looked up."""
        address_budget = self.limiter.address_budget(address)
        failures = self.limiter.failed_authentication_budget(address)
        try:
            secret = bearer_secret(authorization)
        except Refusal as refusal:
            await self._charge_failure(address_budget, failures)
            raise self._counted(refusal) from None
        if secret is None:
            return Caller(ANONYMOUS, None, address, address_budget)
        room = await self.limiter.check(failures)
        if not room.allowed:
            raise self._rate_limited(room)
        try:
            viewer = await resolve_bearer(secret)
        except Unauthenticated as error:
            await self._charge_failure(address_budget, failures)
            raise self._counted(
                Refusal(
                    error.code,
                    error.message,
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="territoires-en-commun"'},
                    step="authentication",
                )
            ) from None
        if viewer.api_key_id is not None:
            budget = self.limiter.api_key_budget(viewer.api_key_id)
        elif viewer.account_id is not None:
            budget = self.limiter.account_budget(viewer.account_id)
        else:  # pragma: no cover - every credential names an account or a key
            budget = address_budget
        return Caller(viewer, secret, address, budget)

    async def _charge_failure(self, address_budget: Budget, failures: Budget) -> None:
        await self.limiter.charge(address_budget)
        await self.limiter.charge(failures)

    # --- 2. rate limit -----------------------------------------------------------------

    async def charge(self, caller: Caller, units: int = 1) -> Spent:
        """Spend ``units`` (one per operation) from the caller's budget, or refuse."""
        spent = await self.limiter.charge(caller.budget, units)
        if not spent.allowed:
            raise self._rate_limited(spent)
        return spent

    # --- 3–5. allow-list, document limits, cost ----------------------------------------

    def admit(self, operation: Operation) -> None:
        """Resolve the operation's document and check it; raises :class:`Refusal`."""
        try:
            operation.registered = self.persisted.resolve(operation)
        except Refusal as refusal:
            refusal.step = "allow_list"
            raise self._counted(refusal) from None
        if operation.query is None:
            raise self._counted(
                Refusal(
                    "BAD_REQUEST",
                    "Paramètre « query » manquant : envoyez le document GraphQL.",
                    status=400,
                    step="allow_list",
                )
            )
        checked = self._checked(operation.query, operation.operation_name)
        if isinstance(checked, GraphQLError):
            code = str((checked.extensions or {}).get("code", "GRAPHQL_PARSE_FAILED"))
            step = "cost" if code == "QUERY_TOO_COSTLY" else "document_limits"
            extensions = {k: v for k, v in (checked.extensions or {}).items() if k != "code"}
            raise self._counted(Refusal(code, checked.message, step=step, extensions=extensions))
        operation.document = checked

    def _checked(self, query: str, operation_name: str | None) -> DocumentNode | GraphQLError:
        """The parsed document, or the refusal of the limits; memoised per document."""
        key = (query, operation_name)
        found = self._documents.get(key)
        if found is not None:
            self._documents.move_to_end(key)
            return found
        document = parse_document(query, max_tokens=self.limits.max_tokens)
        if isinstance(document, GraphQLError):
            found: DocumentNode | GraphQLError = document
        else:
            refused = check_limits(self.schema, document, operation_name, self.limits)
            found = refused if refused is not None else document
        self._documents[key] = found
        if len(self._documents) > _DOCUMENT_CACHE_SIZE:
            self._documents.popitem(last=False)
        return found

    # --- refusals ----------------------------------------------------------------------

    def _rate_limited(self, spent: Spent) -> Refusal:
        return self._counted(
            Refusal(
                "RATE_LIMITED",
                spent.message,
                status=429,
                headers=spent.headers(),
                step="rate_limit",
            )
        )

    def _counted(self, refusal: Refusal) -> Refusal:
        self.metrics.refused(refusal.code, refusal.status)
        return refusal
