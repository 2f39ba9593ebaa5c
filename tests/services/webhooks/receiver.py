"""A real HTTP receiver of webhooks on loopback, as a partner site runs one.

It records every request (headers and raw body) and answers as its ``plan`` says: a
status per request, optionally after a delay (a slow receiver). It verifies nothing
itself: tests check signatures with :func:`verify_standard`, written from the Standard
Webhooks specification independently of the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


Plan = Callable[[int, "Received"], tuple[int, float]]
"""(request number from 0, request) -> (status, seconds to wait before answering)."""


def always(status: int) -> Plan:
    return lambda n, request: (status, 0.0)


@dataclass
class Receiver:
    plan: Plan = field(default_factory=lambda: always(204))
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    tls: ssl.SSLContext | None = None
    host: str = "127.0.0.1"

    def start(self) -> Receiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                request = Received(
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                    self.path,
                )
                with owner.lock:
                    number = len(owner.received)
                    owner.received.append(request)
                status, delay = owner.plan(number, request)
                if delay:
                    time.sleep(delay)
                body = b'{"ok":true}' if status < 300 else b"receiver says no " * 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.server.server_address[1]}/hooks/tec"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)


def verify_standard(secret: str, request: Received) -> bool:
    """The Standard Webhooks check of a symmetric signature: HMAC-SHA256 with the
    base64-decoded key after ``whsec_``, over ``{id}.{timestamp}.{body}``, compared in
    constant time with each ``v1`` signature of the header."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id = request.headers["webhook-id"]
    timestamp = request.headers["webhook-timestamp"]
    signed = f"{msg_id}.{timestamp}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    versions = [s.split(",", 1) for s in request.headers["webhook-signature"].split(" ")]
    return any(v == "v1" and hmac.compare_digest(sig, expected) for v, sig in versions)
