"""Every transport passes every guard: the table of transport × step.

The cells are generated from :class:`gateway.guards.Transport` and
:data:`gateway.guards.STEPS`, so a new transport or a new step fails here until each of its
cells says what it refuses and how."""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable, Callable

import pytest

from gateway.app import create_app
from gateway.guards import STEPS, Transport
from tests.clock import FakeClock
from tests.conftest import PASSWORD
from tests.gateway.transports import Outcome, send

ALLOWED = "query Allowed { currentTheme { title } }"
UNREGISTERED = "query Unregistered { currentTheme { slug } }"
TOO_DEEP = (
    "query TooDeep { themes(first: 1) { nodes { resources(first: 1) { nodes { themes { "
    "resources(first: 1) { nodes { themes { resources(first: 1) { nodes { themes { "
    "resources(first: 1) { nodes { title } } } } } } } } } } } } } }"
)
TOO_COSTLY = (
    "query TooCostly { resources(first: 100) { nodes { themes { resources(first: 100) { "
    "nodes { title themes { title } } } } } } }"
)
BUDGET = 3


@pytest.fixture(scope="module")
def guarded(database, tmp_path_factory):
    """An app in allow-list mode whose signed-in accounts have a small budget. Its clock
    stands still: a budget's requests never straddle the turn of a window."""
    allowlist = tmp_path_factory.mktemp("allow") / "queries.json"
    allowlist.write_text(json.dumps([ALLOWED, TOO_DEEP, TOO_COSTLY]))
    return create_app(
        database.replace(
            **{
                "persisted_queries_allowlist": str(allowlist),
                "rate_limit_account": BUDGET,
                "rate_limit_anonymous": 1_000_000,
                "cache_enabled": False,
            }
        ),
        clock=FakeClock(),
    )


async def _fresh_account(name: str) -> dict[str, str]:
    from services.accounts import service as accounts

    account = await accounts.create_account(
        f"{name}@guards.test", password=PASSWORD, display_name=name, role="EDITOR"
    )
    token = await accounts.issue_token(account)
    return {"Authorization": f"Bearer {token}"}


def _refused(code: str) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        assert outcome.codes and set(outcome.codes) == {code}, outcome

    return check


async def _authentication(app, transport: Transport) -> None:
    outcome = await send(app, transport, [ALLOWED], {"Authorization": "Bearer tec_u_forged"})
    if transport is Transport.WEBSOCKET:
        assert outcome.closed == 4403 and outcome.codes == [], outcome
    else:
        _refused("UNAUTHENTICATED")(outcome)
        assert set(outcome.statuses) == {401}


async def _rate_limit(app, transport: Transport) -> None:
    headers = await _fresh_account(f"budget-{transport.value}")
    outcome = await send(app, transport, [ALLOWED] * (BUDGET + 1), headers)
    assert "RATE_LIMITED" in outcome.codes, outcome
    ran = [code for code in outcome.codes if code is None]
    # One unit per operation (a WebSocket connection_init costs one too).
    assert len(ran) <= BUDGET, outcome


async def _allow_list(app, transport: Transport) -> None:
    _refused("PERSISTED_QUERY_NOT_ALLOWED")(await send(app, transport, [UNREGISTERED]))


async def _document_limits(app, transport: Transport) -> None:
    _refused("QUERY_TOO_DEEP")(await send(app, transport, [TOO_DEEP]))


async def _cost(app, transport: Transport) -> None:
    _refused("QUERY_TOO_COSTLY")(await send(app, transport, [TOO_COSTLY]))


CELLS: dict[str, Callable[..., Awaitable[None]]] = {
    "authentication": _authentication,
    "rate_limit": _rate_limit,
    "allow_list": _allow_list,
    "document_limits": _document_limits,
    "cost": _cost,
}


def test_every_step_has_a_case():
    assert list(CELLS) == list(STEPS)


@pytest.mark.parametrize(
    ("transport", "step"),
    list(itertools.product(Transport, STEPS)),
    ids=lambda value: value.value if isinstance(value, Transport) else value,
)
async def test_each_transport_passes_each_guard(guarded, transport, step):
    await CELLS[step](guarded, transport)


@pytest.mark.parametrize("transport", list(Transport), ids=lambda t: t.value)
async def test_an_operation_that_passes_every_guard_runs(guarded, transport):
    outcome = await send(guarded, transport, [ALLOWED])
    assert outcome.codes == [None] and outcome.closed is None, outcome
