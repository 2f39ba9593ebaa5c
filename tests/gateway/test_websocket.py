"""GraphQL over WebSocket: text frames, authentication at connection_init, one protocol,
and errors with codes."""

from __future__ import annotations

import contextlib
import json

import httpx
import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from wsproto.events import TextMessage

PROTOCOL = ["graphql-transport-ws"]


@contextlib.asynccontextmanager
async def connect(app, subprotocols=PROTOCOL, **options):
    """A WebSocket to ``/graphql`` of ``app``, in this test's own task (anyio requires
    the transport's task group to be left from the task that entered it)."""
    async with (
        ASGIWebSocketTransport(app=app) as transport,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        aconnect_ws("/graphql", client, subprotocols=subprotocols, **options) as ws,
    ):
        yield ws


async def _init(ws, payload: dict | None = None) -> dict:
    await ws.send_text(json.dumps({"type": "connection_init", "payload": payload or {}}))
    return json.loads(await ws.receive_text())


async def test_messages_go_out_as_text_frames(app):
    async with connect(app) as ws:
        await ws.send_text(json.dumps({"type": "connection_init"}))
        ack = await ws.receive()
        assert isinstance(ack, TextMessage) and json.loads(ack.data)["type"] == "connection_ack"
        await ws.send_text(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}})
        )
        result = await ws.receive()
        assert isinstance(result, TextMessage)
        assert json.loads(result.data)["payload"] == {"data": {"__typename": "Query"}}


async def test_the_bearer_of_connection_init_is_the_viewer(app, principals):
    async with connect(app) as ws:
        assert (await _init(ws, principals["EDITOR"]))["type"] == "connection_ack"
        await ws.send_text(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": "{ me { displayName } }"}}
            )
        )
        reply = json.loads(await ws.receive_text())
        assert reply["payload"]["data"]["me"]["displayName"] == "EDITOR"


async def test_an_open_socket_stops_when_its_account_is_deactivated(app, principals):
    from services.accounts import admin
    from services.accounts import service as accounts

    account = await accounts.create_account(
        "socket-desactive@example.org", password="un mot de passe solide", role="EDITOR"
    )
    token = await accounts.issue_token(account)
    subscribe = {"type": "subscribe", "payload": {"query": "{ me { email } }"}}
    async with connect(app) as ws:
        assert (await _init(ws, {"Authorization": f"Bearer {token}"}))["type"] == "connection_ack"
        await ws.send_text(json.dumps({"id": "1", **subscribe}))
        reply = json.loads(await ws.receive_text())
        assert reply["payload"]["data"]["me"]["email"] == account.email
        assert json.loads(await ws.receive_text())["type"] == "complete"

        await admin.deactivate_account(admin.OPERATOR, account.id)
        await ws.send_text(json.dumps({"id": "2", **subscribe}))
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_text()
    assert closed.value.code == 4403


async def test_the_handshake_authorization_header_is_read_too(app, principals):
    async with connect(app, headers={"Authorization": "Bearer nope"}) as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            await _init(ws)
    assert closed.value.code == 4403


async def test_the_older_graphql_ws_protocol_is_refused(app):
    async with connect(app, subprotocols=["graphql-ws"]) as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_text()
    assert closed.value.code == 4406


async def test_a_message_that_is_not_json_closes_with_4400(app):
    async with connect(app) as ws:
        await ws.send_text("[" * 5000)
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_text()
    assert closed.value.code == 4400


async def test_subscribing_before_connection_init_closes_with_4401(app):
    async with connect(app) as ws:
        await ws.send_text(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}})
        )
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_text()
    assert closed.value.code == 4401


async def test_errors_carry_codes_and_no_internals(app):
    async with connect(app) as ws:
        await _init(ws)
        for number, payload in enumerate(
            [
                {"query": "{ nope }"},
                {"query": "{ __typename }", "variables": "x"},
                {"query": 'mutation { signIn(email: "a@b.c", password: "x") { token } }'},
            ]
        ):
            await ws.send_text(
                json.dumps({"id": str(number), "type": "subscribe", "payload": payload})
            )
            reply = json.loads(await ws.receive_text())
            errors = reply["payload"] if reply["type"] == "error" else reply["payload"]["errors"]
            assert all(error["extensions"]["code"] for error in errors), reply
            assert "Traceback" not in json.dumps(reply)
