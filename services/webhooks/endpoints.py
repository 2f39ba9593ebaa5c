"""Registering webhook endpoints and reading their delivery logs.

An endpoint belongs to an organisation (a partner site) or to no one (the platform's
team). Partner accounts manage their own organisation's endpoints, administrators every
endpoint; editors read endpoints and delivery logs. Every change is in the audit log,
never with the secret. The secret is shown once, when it is made (creation, rotation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tortoise.expressions import Q

from services.audit.service import record
from services.editing import now, write_transaction
from services.errors import BadUserInput, Forbidden, NotFound, Problems
from services.organizations.models import Organization
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.policy import Principal, authorize, is_allowed, principal
from services.viewer import Viewer
from services.webhooks.addresses import check_literal, parse_url
from services.webhooks.events import event_types
from services.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from services.webhooks.signing import generate_secret

MAX_ENDPOINTS_PER_OWNER = 10
DESCRIPTION_MAX = 200
ROTATION_GRACE = dt.timedelta(hours=24)
"""How long the previous secret keeps signing beside the new one after a rotation."""

ENDPOINT_ORDER = Ordering((SortKey("id", False, "int"),))
DELIVERY_ORDER = Ordering((SortKey("id", True, "int"),))


@dataclass(frozen=True)
class EndpointDraft:
    """What a caller gives; None: unchanged (on update)."""

    url: str | None = None
    events: Sequence[str] | None = None
    description: str | None = None
    enabled: bool | None = None


def _is_partner(viewer: Viewer) -> bool:
    return principal(viewer) is Principal.PARTNER


def _mine(viewer: Viewer) -> Q:
    """The endpoints ``viewer`` may see: its organisation's for a partner, all otherwise
    (the policy table has already let only editors and partners in)."""
    if _is_partner(viewer):
        return Q(organization_id=viewer.organization_id or 0)
    return Q()


def _clean(draft: EndpointDraft, *, creating: bool, allow_private: bool) -> dict[str, object]:
    problems = Problems()
    values: dict[str, object] = {}
    if draft.url is not None or creating:
        try:
            target = parse_url(draft.url or "")
            check_literal(target, allow_private=allow_private)
            values["url"] = (draft.url or "").strip()
        except BadUserInput as error:
            problems.add(error)
    if draft.events is not None or creating:
        known = event_types()
        wanted = list(dict.fromkeys(draft.events or ()))
        unknown = [e for e in wanted if e not in known]
        if not wanted:
            problems.add(BadUserInput("Choisissez au moins un événement.", field="events"))
        elif unknown:
            problems.add(
                BadUserInput(
                    f"Événement(s) inconnu(s) : {', '.join(unknown)} "
                    f"(connus : {', '.join(known)}).",
                    field="events",
                )
            )
        else:
            values["events"] = wanted
    if draft.description is not None:
        description = draft.description.strip()
        if len(description) > DESCRIPTION_MAX:
            problems.add(
                BadUserInput(
                    f"Description : au plus {DESCRIPTION_MAX} caractères.", field="description"
                )
            )
        values["description"] = description
    problems.raise_any()
    return values


async def _owner(viewer: Viewer, organization_id: int | None) -> int | None:
    """The organisation a new endpoint belongs to: the partner's own; for an
    administrator, the one given or none."""
    if _is_partner(viewer):
        if viewer.organization_id is None:
            raise Forbidden("Votre compte partenaire n'est rattaché à aucune organisation.")
        if organization_id is not None and organization_id != viewer.organization_id:
            raise Forbidden(
                "Vous ne gérez que les webhooks de votre organisation.", field="organization"
            )
        return viewer.organization_id
    if organization_id is None:
        return None
    if not await Organization.filter(id=organization_id).exists():
        raise NotFound("Organisation introuvable.", field="organization")
    return organization_id


async def create_endpoint(
    viewer: Viewer,
    draft: EndpointDraft,
    *,
    organization_id: int | None = None,
    allow_private: bool,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its secret (shown this once)."""
    authorize(viewer, "webhook.manage")
    # An unknown organisation is refused with the bad fields, not before them.
    problems = Problems()
    values = problems.check(lambda: _clean(draft, creating=True, allow_private=allow_private))
    owner = None
    try:
        owner = await _owner(viewer, organization_id)
    except NotFound as unknown:
        problems.add(unknown)
    problems.raise_any()
    assert values is not None
    secret = generate_secret()
    async with write_transaction():
        count = await WebhookEndpoint.filter(organization_id=owner).count()
        if count >= MAX_ENDPOINTS_PER_OWNER:
            raise BadUserInput(
                f"Au plus {MAX_ENDPOINTS_PER_OWNER} adresses de webhooks par organisation.",
                field="url",
            )
        endpoint = await WebhookEndpoint.create(
            **values,
            organization_id=owner,
            created_by_id=viewer.account_id,
            secret=secret,
            enabled=draft.enabled if draft.enabled is not None else True,
        )
        await record(
            viewer,
            "webhook.create",
            endpoint,
            changes={k: [None, v] for k, v in {**values, "organization": owner}.items()},
        )
    return endpoint, secret


async def _for_change(viewer: Viewer, endpoint_id: int) -> WebhookEndpoint:
    authorize(viewer, "webhook.manage")
    found = await WebhookEndpoint.filter(_mine(viewer), id=endpoint_id).select_for_update().first()
    if found is None:
        # Someone else's endpoint is as unknown as a missing one.
        raise NotFound(
            "Webhook introuvable.",
            field="id",
            operator_message=f"no webhook endpoint {endpoint_id}",
        )
    return found


async def update_endpoint(
    viewer: Viewer, endpoint_id: int, draft: EndpointDraft, *, allow_private: bool
) -> WebhookEndpoint:
    """Change an endpoint's URL, events, description or state. Enabling it again starts
    its pending deliveries over with a fresh failure count."""
    values = _clean(draft, creating=False, allow_private=allow_private)
    async with write_transaction():
        endpoint = await _for_change(viewer, endpoint_id)
        before = {k: getattr(endpoint, k) for k in values}
        if draft.enabled is not None and draft.enabled != endpoint.enabled:
            values["enabled"] = draft.enabled
            before["enabled"] = endpoint.enabled
            if draft.enabled:
                values.update(disabled_at=None, disabled_reason=None, failing_since=None)
            else:
                values.update(disabled_at=None, disabled_reason="désactivé par son propriétaire")
        if values:
            endpoint.update_from_dict(values)
            await endpoint.save()
        changes = {k: [before[k], values[k]] for k in before if before[k] != values[k]}
        await record(viewer, "webhook.update", endpoint, changes=changes)
    return endpoint


async def delete_endpoint(viewer: Viewer, endpoint_id: int) -> WebhookEndpoint:
    """Remove an endpoint with its delivery log."""
    async with write_transaction():
        endpoint = await _for_change(viewer, endpoint_id)
        await record(viewer, "webhook.delete", endpoint, changes={"url": [endpoint.url, None]})
        await endpoint.delete()
    return endpoint


async def rotate_secret(viewer: Viewer, endpoint_id: int) -> tuple[WebhookEndpoint, str]:
    """A new secret; the previous one keeps signing beside it for 24 hours."""
    secret = generate_secret()
    async with write_transaction():
        endpoint = await _for_change(viewer, endpoint_id)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = now() + ROTATION_GRACE
        endpoint.secret = secret
        await endpoint.save()
        await record(viewer, "webhook.rotate_secret", endpoint, changes={"secret": ["…", "…"]})
    return endpoint, secret


async def list_endpoints(viewer: Viewer, *, page: PageRequest) -> Page[WebhookEndpoint]:
    """The endpoints the viewer may see, oldest first."""
    authorize(viewer, "webhook.read")
    return await paginate(WebhookEndpoint.filter(_mine(viewer)), ENDPOINT_ORDER, page)


async def get_endpoint(viewer: Viewer, endpoint_id: int) -> WebhookEndpoint:
    authorize(viewer, "webhook.read")
    found = await WebhookEndpoint.filter(_mine(viewer), id=endpoint_id).first()
    if found is None:
        raise NotFound("Webhook introuvable.", field="endpoint")
    return found


async def list_deliveries(
    viewer: Viewer,
    endpoint_id: int,
    *,
    statuses: Sequence[DeliveryStatus] = (),
    page: PageRequest,
) -> Page[WebhookDelivery]:
    """An endpoint's delivery log, newest first."""
    await get_endpoint(viewer, endpoint_id)
    rows = WebhookDelivery.filter(endpoint_id=endpoint_id)
    if statuses:
        rows = rows.filter(status__in=list(statuses))
    return await paginate(rows, DELIVERY_ORDER, page)


async def get_readable_endpoints_by_ids(
    viewer: Viewer, ids: Iterable[int]
) -> dict[int, WebhookEndpoint]:
    """The endpoints among ``ids`` that ``viewer`` may read (``node``); none for others."""
    if not is_allowed(viewer, "webhook.read"):
        return {}
    rows = await WebhookEndpoint.filter(_mine(viewer), id__in=list(ids))
    return {row.id: row for row in rows}


async def get_readable_deliveries_by_ids(
    viewer: Viewer, ids: Iterable[int]
) -> dict[int, WebhookDelivery]:
    """The deliveries among ``ids`` in the logs ``viewer`` may read (``node``)."""
    if not is_allowed(viewer, "webhook.read"):
        return {}
    mine = WebhookEndpoint.filter(_mine(viewer)).values_list("id", flat=True)
    rows = await WebhookDelivery.filter(id__in=list(ids), endpoint_id__in=await mine)
    return {row.id: row for row in rows}


async def list_all_endpoints() -> list[WebhookEndpoint]:
    """Every endpoint (the operators' CLI)."""
    return list(await WebhookEndpoint.all().order_by("id"))


async def get_events_by_ids(ids: Sequence[int]) -> dict[int, WebhookEvent]:
    """Events by id (the delivery log's loader)."""
    return {e.id: e for e in await WebhookEvent.filter(id__in=list(ids))}
