"""Fixtures of the webhook tests: endpoints that follow events, receivers on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence

import pytest

from services.viewer import Role, Viewer
from services.webhooks.endpoints import EndpointDraft, create_endpoint
from services.webhooks.events import event_types
from services.webhooks.models import WebhookEndpoint
from tests.services.webhooks.receiver import Receiver

ADMIN = Viewer(role=Role.ADMIN)
EDITOR = Viewer(role=Role.EDITOR)


@pytest.fixture
async def endpoints(database) -> AsyncIterator[Callable]:
    """``await make(url, events=...)`` -> (endpoint, secret); removed after the test, so
    that no other test's writes queue deliveries for it."""
    made: list[int] = []

    async def make(
        url: str = "https://partner.example/hooks", events: Sequence[str] | None = None
    ) -> tuple[WebhookEndpoint, str]:
        endpoint, secret = await create_endpoint(
            ADMIN,
            EndpointDraft(url=url, events=list(events or event_types())),
            allow_private=True,
        )
        made.append(endpoint.id)
        return endpoint, secret

    yield make
    await WebhookEndpoint.filter(id__in=made).delete()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()
