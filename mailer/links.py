"""Links of newsletters.

Content goes to the public site, the partner portal (``TEC_PORTAL_URL`` and one path
template per kind of page): a resource, theme, event, shared project or concept, the
vote, the contribution form, the preferences page. The issue's own pages (view in
browser, archive) and the signed unsubscribe and confirmation links stay on the gateway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from services.settings import Settings
from services.subscribers.service import manage_token
from services.subscribers.signing import SigningKeys

# GraphQL type of an item → the setting holding the path of its portal page.
_PAGES = {
    "Resource": "portal_resource_path",
    "Theme": "portal_theme_path",
    "Event": "portal_event_path",
    "SharedProject": "portal_project_path",
    "Concept": "portal_concept_path",
    "VotingRound": "portal_vote_path",
}
# Where an item's own address is, when it has one (otherwise: its portal page): a
# resource's ``url``, an event's ``registrationUrl``.
_OWN_URL = ("url", "registrationUrl")


def portal_url(settings: Settings, path: str = "", **values: str) -> str:
    """An address on the portal: ``path`` with its ``{placeholders}`` filled (escaped)."""
    for name, value in values.items():
        path = path.replace(f"{{{name}}}", quote(value, safe=""))
    return f"{settings.newsletters.portal_url}{path}"


def page_url(settings: Settings, type_name: str, slug: str) -> str | None:
    """The portal page of an item of ``type_name`` (None for types without one)."""
    setting = _PAGES.get(type_name)
    if setting is None or not slug:
        return None
    return portal_url(settings, getattr(settings.newsletters, setting), slug=slug)


def item_link(settings: Settings, item: Mapping[str, Any]) -> str | None:
    """Where an item of an issue leads: its own address (a resource's URL, an event's
    registration page), else its page on the portal."""
    own = next((item[key] for key in _OWN_URL if item.get(key)), None)
    if own:
        return str(own)
    return page_url(settings, str(item.get("__typename") or ""), str(item.get("slug") or ""))


def issue_links(settings: Settings, slug: str) -> dict[str, str]:
    """Links of one issue, the same for every recipient."""
    base = settings.http.base_url
    return {
        "home": portal_url(settings, "/"),
        "view_in_browser": f"{base}/newsletters/{quote(slug)}",
        "archive": f"{base}/newsletters",
        "logo": settings.newsletters.newsletter_logo_url or f"{base}/newsletters/logo.png",
        "contribute": portal_url(settings, settings.newsletters.portal_contribution_path),
        "contact": f"mailto:{settings.newsletters.newsletter_contact}",
    }


def unsubscribe_url(settings: Settings, token: str) -> str:
    return f"{settings.http.base_url}/newsletters/unsubscribe?token={quote(token)}"


def preferences_url(settings: Settings, token: str) -> str:
    """The preferences page of one subscriber: the portal's when
    ``TEC_PORTAL_PREFERENCES_PATH`` is set, the gateway's otherwise."""
    if settings.newsletters.portal_preferences_path:
        return portal_url(settings, settings.newsletters.portal_preferences_path, token=token)
    return f"{settings.http.base_url}/newsletters/preferences?token={quote(token)}"


def confirmation_url(settings: Settings, token: str) -> str:
    return f"{settings.http.base_url}/newsletters/confirm?token={quote(token)}"


def password_reset_url(settings: Settings, token: str) -> str:
    """The gateway's page where the owner of a reset link chooses a new password."""
    return f"{settings.http.base_url}/account/password?token={quote(token)}"


def recipient_values(
    settings: Settings, keys: SigningKeys, *, subscriber_id: int, generation: int, name: str
) -> dict[str, str]:
    """Values of the recipient placeholders for one subscriber."""
    token = manage_token(keys, subscriber_id, generation)
    return {
        "greeting": f"Bonjour {name}," if name else "Bonjour,",
        "unsubscribe_url": unsubscribe_url(settings, token),
        "preferences_url": preferences_url(settings, token),
    }


def public_values(settings: Settings) -> dict[str, str]:
    """Placeholders of the web archive: nobody's links."""
    return {
        "greeting": "Bonjour,",
        "unsubscribe_url": f"{settings.http.base_url}/newsletters/unsubscribe",
        "preferences_url": f"{settings.http.base_url}/newsletters/preferences",
    }
