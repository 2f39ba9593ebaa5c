"""A POST /graphql as uvicorn hands it to the app, for benchmarks that call the app in
process without an HTTP client: its ASGI scope, and the exchange itself."""

from __future__ import annotations

import asyncio
from typing import Any


def graphql_post_scope(body: bytes) -> dict[str, object]:
    """The scope of a POST /graphql carrying ``body`` (JSON) from a local client."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"accept", b"*/*"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
        "state": {},
    }


async def post_graphql(app: Any, body: bytes) -> tuple[int, bytes]:
    """``body`` POSTed to /graphql through the whole ASGI app (middleware, guards,
    execution): the answer's status and bytes. The client stays until the whole answer
    is sent, then disconnects."""
    sent = False
    status = 0
    chunks: list[bytes] = []
    answered = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await answered.wait()
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                answered.set()

    await app(graphql_post_scope(body), receive, send)
    return status, b"".join(chunks)
