"""What newsletter resolvers and HTTP handlers need from the running app: the mail
transport (``app.state.mail_transport_factory``, replaceable in tests) and the executor."""

from __future__ import annotations

from typing import Any

import strawberry
from starlette.requests import HTTPConnection

from mailer.compose import Executor
from mailer.transport import MailTransport, build_transport
from schema.newsletters.executor import build_executor
from services.settings import Settings


def transport_for(connection: HTTPConnection | None, settings: Settings) -> MailTransport:
    """A transport for one request (closed by the caller)."""
    factory = None
    if connection is not None:
        factory = getattr(connection.app.state, "mail_transport_factory", None)
    return (factory or build_transport)(settings)


def executor_for(info: strawberry.Info) -> Executor:
    return build_executor(info.schema, info.context.settings, search=info.context.search)


def request_of(info: strawberry.Info) -> Any:
    return info.context.request


def client_ip(connection: HTTPConnection | None) -> str:
    if connection is None or connection.client is None:
        return ""
    return connection.client.host
