"""Web pages of newsletters: the archive, an issue as it was sent (« voir dans le
navigateur »), confirming, unsubscribing (RFC 8058 one-click POST) and preferences. Small
HTML pages, French, no JavaScript. Links that act show a button on GET and act on POST
only: mail scanners follow links, and must neither confirm nor unsubscribe anyone."""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources as package_files
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from gateway.pages.html import page as _page
from mailer.sending import public_render
from services.errors import DomainError
from services.newsletters import service
from services.pagination import PageRequest
from services.subscribers import service as subscribers
from services.subscribers.models import SubscriberAudience
from services.subscribers.signing import signing_keys


def _settings(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.settings


async def archive(request: Request) -> Response:
    """The list of sent issues."""
    page = await service.list_archive(page=PageRequest(first=100, after=None))
    items = "".join(
        f'<li><a href="{escape(request.url_for("newsletter_issue", slug=i.slug).path)}">'
        f"{escape(i.title)}</a> — {i.sent_at:%d/%m/%Y}</li>"
        for i in page.items
        if i.sent_at
    )
    return _page("Les newsletters de Territoires en Commun", f"<ul>{items}</ul>")


async def issue_page(request: Request) -> Response:
    """An issue exactly as it was sent (its frozen render), without anyone's links."""
    found = await service.get_archived_issue(request.path_params["slug"])
    if found is None or found.frozen_html is None:
        return _page("Newsletter introuvable", "<p>Ce numéro n'existe pas.</p>", status=404)
    return HTMLResponse(public_render(found.frozen_html, _settings(request)))


@cache
def _logo() -> bytes:
    return package_files.files("mailer").joinpath("assets", "logo.png").read_bytes()


async def logo(request: Request) -> Response:
    """The built-in newsletter logo (``TEC_NEWSLETTER_LOGO_URL`` replaces it in e-mails)."""
    return Response(_logo(), media_type="image/png", headers={"Cache-Control": "max-age=86400"})


async def confirm(request: Request) -> Response:
    """The double opt-in link: GET shows a button, POST (the button) confirms."""
    token = request.query_params.get("token", "")
    keys = signing_keys(_settings(request))
    try:
        if request.method == "GET":
            waiting = await subscribers.check_confirmation_link(keys, token)
            if not waiting:
                return _page("Abonnement confirmé", "<p>Votre abonnement est déjà confirmé.</p>")
            return _page(
                "Confirmer mon abonnement",
                f'<form method="post" action="?token={escape(token)}">'
                "<p>Vous recevrez la newsletter Territoires en Commun.</p>"
                "<button>Confirmer mon abonnement</button></form>",
            )
        ip = request.client.host if request.client else ""
        await subscribers.confirm_subscription(keys, token, ip=ip)
    except DomainError as error:
        return _page("Confirmation impossible", f"<p>{escape(error.message)}</p>", status=400)
    return _page(
        "Abonnement confirmé",
        "<p>Merci ! Vous recevrez les prochains numéros de la newsletter.</p>",
    )


async def unsubscribe(request: Request) -> Response:
    """GET shows a button (link scanners must not unsubscribe anyone); POST unsubscribes:
    the RFC 8058 one-click request of mail clients, or the button."""
    token = request.query_params.get("token", "")
    if not token:
        return _page(
            "Se désabonner",
            "<p>Utilisez le lien « Se désabonner » de l'un de nos e-mails.</p>",
        )
    keys = signing_keys(_settings(request))
    if request.method == "GET":
        try:
            await subscribers.check_unsubscribe_link(keys, token)
        except DomainError as error:
            return _page("Lien invalide", f"<p>{escape(error.message)}</p>", status=400)
        return _page(
            "Se désabonner",
            f'<form method="post" action="?token={escape(token)}">'
            "<p>Vous ne recevrez plus la newsletter Territoires en Commun.</p>"
            "<button>Me désabonner</button></form>",
        )
    try:
        await subscribers.unsubscribe(keys, token)
    except DomainError as error:
        return _page("Lien invalide", f"<p>{escape(error.message)}</p>", status=400)
    return _page("Désabonnement enregistré", "<p>Vous ne recevrez plus nos e-mails.</p>")


_AUDIENCES = {
    SubscriberAudience.LOCAL_AUTHORITY: "Collectivité territoriale",
    SubscriberAudience.PARTNER: "Partenaire",
    SubscriberAudience.CITIZEN: "Citoyen·ne",
}


async def preferences(request: Request) -> Response:
    """Who you are (audience) and your name; themes are changed through GraphQL
    (``updateSubscriptionPreferences``)."""
    token = request.query_params.get("token", "")
    if not token:
        return _page(
            "Mes préférences",
            "<p>Utilisez le lien « Gérer mes préférences » de l'un de nos e-mails.</p>",
        )
    keys = signing_keys(_settings(request))
    try:
        if request.method == "POST":
            form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
            audience = SubscriberAudience(str(form.get("audience", "CITIZEN")))
            found = await subscribers.update_preferences(
                keys, token, audience=audience, name=str(form.get("name", ""))
            )
        else:
            found = await subscribers.get_subscriber_by_token(keys, token)
    except (DomainError, ValueError) as error:
        message = getattr(error, "message", "Valeur invalide.")
        return _page("Lien invalide", f"<p>{escape(message)}</p>", status=400)
    options = "".join(
        f'<label><input type="radio" name="audience" value="{a.value}"'
        f"{' checked' if found.audience is a else ''}> {label}</label><br>"
        for a, label in _AUDIENCES.items()
    )
    return _page(
        "Mes préférences",
        f'<form method="post" action="?token={escape(token)}">'
        f'<p><label>Nom <input name="name" value="{escape(found.name)}"></label></p>'
        f"<p>{options}</p><button>Enregistrer</button></form>",
    )


def routes() -> list[Route]:
    return [
        Route("/newsletters", archive, methods=["GET", "HEAD"]),
        Route("/newsletters/logo.png", logo, methods=["GET", "HEAD"]),
        Route("/newsletters/confirm", confirm, methods=["GET", "POST"]),
        Route("/newsletters/unsubscribe", unsubscribe, methods=["GET", "POST"]),
        Route("/newsletters/preferences", preferences, methods=["GET", "POST"]),
        Route("/newsletters/{slug}", issue_page, methods=["GET", "HEAD"], name="newsletter_issue"),
    ]
