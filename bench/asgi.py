"""A POST /graphql as uvicorn hands it to the app: the ASGI scope, for benchmarks that
call the app in process without an HTTP client."""

from __future__ import annotations


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
