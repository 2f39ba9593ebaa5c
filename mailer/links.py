"""Links of newsletters: per issue (view in browser, archive) and per recipient (signed
unsubscribe and preferences links)."""

from __future__ import annotations

from urllib.parse import quote

from services.settings import Settings
from services.subscribers.service import manage_token
from services.subscribers.signing import SigningKeys

CONTACT = "mailto:contact@territoires-en-commun.example"


def issue_links(settings: Settings, slug: str) -> dict[str, str]:
    base = settings.base_url
    return {
        "home": f"{base}/newsletters",
        "view_in_browser": f"{base}/newsletters/{quote(slug)}",
        "archive": f"{base}/newsletters",
        "logo": settings.newsletter_logo_url or f"{base}/newsletters/logo.png",
        "contribute": f"{base}/graphql",
        "vote": f"{base}/graphql",
        "contact": CONTACT,
    }


def unsubscribe_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/newsletters/unsubscribe?token={quote(token)}"


def preferences_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/newsletters/preferences?token={quote(token)}"


def confirmation_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/newsletters/confirm?token={quote(token)}"


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
        "unsubscribe_url": f"{settings.base_url}/newsletters/unsubscribe",
        "preferences_url": f"{settings.base_url}/newsletters/preferences",
    }
