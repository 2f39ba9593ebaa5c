"""Fallback load balancer of the staging run, for machines without Caddy: round robin
over the replicas, a replica that refuses connections is skipped for a few seconds and the
request goes to the next one (as Caddy's ``lb_try_duration``), ``X-Forwarded-For`` gets
the peer's address appended (the peer is on loopback, a trusted hop), and each answer says
which replica served it (``X-Staging-Upstream``, as the staging Caddyfile does).

    python -m deploy.staging.proxy --port 8080 --upstream 127.0.0.1:8001 --upstream …

HTTP only (no WebSocket): the staging load does not subscribe.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx
import uvicorn

HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailers",
    b"transfer-encoding",
    b"upgrade",
    b"host",
    b"content-length",
}
TRY_DURATION = 5.0
SKIP_SECONDS = 2.0


class RoundRobinProxy:
    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.turn = 0
        self.down_until: dict[str, float] = {}
        self.client: httpx.AsyncClient | None = None

    def _order(self) -> list[str]:
        self.turn = (self.turn + 1) % len(self.upstreams)
        ordered = self.upstreams[self.turn :] + self.upstreams[: self.turn]
        now = time.monotonic()
        return [u for u in ordered if self.down_until.get(u, 0) <= now] or ordered

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP_BY_HOP]
        peer = (scope.get("client") or ("127.0.0.1", 0))[0]
        forwarded = [v.decode("latin-1") for k, v in headers if k.lower() == b"x-forwarded-for"]
        headers = [(k, v) for k, v in headers if k.lower() != b"x-forwarded-for"]
        headers.append((b"x-forwarded-for", ", ".join([*forwarded, peer]).encode("latin-1")))
        target = scope["path"] + (
            "?" + scope["query_string"].decode("latin-1") if scope["query_string"] else ""
        )
        deadline = time.monotonic() + TRY_DURATION
        assert self.client is not None
        while True:
            for upstream in self._order():
                try:
                    response = await self.client.request(
                        scope["method"], f"http://{upstream}{target}", headers=headers, content=body
                    )
                except httpx.ConnectError:
                    self.down_until[upstream] = time.monotonic() + SKIP_SECONDS
                    continue
                except httpx.HTTPError:
                    await _respond(send, 502, [], b"")
                    return
                out = [
                    (k.encode("latin-1"), v.encode("latin-1"))
                    for k, v in response.headers.multi_items()
                    if k.lower().encode() not in HOP_BY_HOP and k.lower() != "content-encoding"
                ]
                out.append((b"x-staging-upstream", upstream.encode()))
                await _respond(send, response.status_code, out, response.content)
                return
            if time.monotonic() >= deadline:
                await _respond(send, 502, [], b"")
                return
            await asyncio.sleep(0.25)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.client = httpx.AsyncClient(timeout=30)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _respond(send: Any, status: int, headers: list, body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", action="append", required=True)
    args = parser.parse_args()
    print(f"staging proxy on 127.0.0.1:{args.port} -> {', '.join(args.upstream)}", flush=True)
    # proxy_headers off: the peer's own address is the hop this proxy appends.
    uvicorn.run(
        RoundRobinProxy(args.upstream),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
