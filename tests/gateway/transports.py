"""One way to send GraphQL operations per transport of the gateway, all answering alike:
for each operation, the code it was refused with, or None when it ran."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from gateway.guards import Transport


@dataclass
class Outcome:
    """What became of each operation sent; ``closed`` is a WebSocket close code."""

    codes: list[str | None] = field(default_factory=list)
    closed: int | None = None
    statuses: list[int] = field(default_factory=list)

    @property
    def refusals(self) -> list[str]:
        return [code for code in self.codes if code is not None]


def _code(payload: dict[str, Any]) -> str | None:
    errors = payload.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


async def _post(client: httpx.AsyncClient, queries: Sequence[str], headers: dict) -> Outcome:
    outcome = Outcome()
    for query in queries:
        response = await client.post("/graphql", json={"query": query}, headers=headers)
        outcome.statuses.append(response.status_code)
        outcome.codes.append(_code(response.json()))
    return outcome


async def _batch(client: httpx.AsyncClient, queries: Sequence[str], headers: dict) -> Outcome:
    response = await client.post("/graphql", json=[{"query": q} for q in queries], headers=headers)
    body = response.json()
    outcome = Outcome(statuses=[response.status_code])
    if isinstance(body, dict):  # refused as a whole
        outcome.codes = [_code(body)] * len(queries)
    else:
        outcome.codes = [_code(item) for item in body]
    return outcome


async def _get(client: httpx.AsyncClient, queries: Sequence[str], headers: dict) -> Outcome:
    outcome = Outcome()
    for query in queries:
        response = await client.get("/graphql", params={"query": query}, headers=headers)
        outcome.statuses.append(response.status_code)
        outcome.codes.append(_code(response.json()))
    return outcome


async def _websocket(app: Any, queries: Sequence[str], headers: dict) -> Outcome:
    outcome = Outcome()
    async with (
        ASGIWebSocketTransport(app=app) as transport,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        try:
            await ws.send_text(json.dumps({"type": "connection_init", "payload": headers}))
            ack = json.loads(await ws.receive_text())
            assert ack["type"] == "connection_ack", ack
            for number, query in enumerate(queries):
                message = {"id": str(number), "type": "subscribe", "payload": {"query": query}}
                await ws.send_text(json.dumps(message))
                while True:
                    reply = json.loads(await ws.receive_text())
                    if reply["type"] == "next":
                        outcome.codes.append(_code(reply["payload"]))
                        continue
                    if reply["type"] == "error":
                        outcome.codes.append(reply["payload"][0]["extensions"]["code"])
                    break  # complete or error: the operation is over
        except WebSocketDisconnect as closed:
            outcome.closed = closed.code
    return outcome


async def send(
    app: Any, transport: Transport, queries: Sequence[str], headers: dict[str, str] | None = None
) -> Outcome:
    """Send ``queries`` to ``app`` by ``transport`` (a batch sends them in one request)."""
    headers = headers or {}
    if transport is Transport.WEBSOCKET:
        return await _websocket(app, queries, headers)
    http = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=http, base_url="http://testserver") as client:
        if transport is Transport.POST:
            return await _post(client, queries, headers)
        if transport is Transport.BATCH:
            return await _batch(client, queries, headers)
        return await _get(client, queries, headers)
