"""What newsletter resolvers need from the running gateway: a mail transport (the
context's factory, replaceable in tests) and the executor of template documents."""

from __future__ import annotations

import strawberry

from mailer.compose import Executor
from mailer.transport import MailTransport, build_transport
from schema.context import Context
from schema.newsletters.executor import build_executor


def transport_for(context: Context) -> MailTransport:
    """A transport for one operation (closed by the caller)."""
    return (context.mail_transport or build_transport)(context.settings.mail)


def executor_for(info: strawberry.Info) -> Executor:
    return build_executor(info.schema, info.context.settings, search=info.context.search)
