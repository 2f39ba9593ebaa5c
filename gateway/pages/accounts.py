"""The page of a password-reset link: GET shows a form (after checking the link), POST
sets the new password. French, no JavaScript; mail scanners that follow the link change
nothing."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.pages.html import page
from services.accounts import admin
from services.accounts.service import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from services.errors import DomainError
from services.subscribers.signing import signing_keys

_TITLE = "Choisir un nouveau mot de passe"
# A form body holds two passwords of at most 256 characters, percent-encoded.
_MAX_FORM_BYTES = 8 * 1024


def _form(token: str, account_email: str, problem: str = "") -> str:
    notice = f'<p role="alert"><strong>{escape(problem)}</strong></p>' if problem else ""
    return (
        f"{notice}<p>Compte : {escape(account_email)}</p>"
        f'<form method="post" action="?token={escape(token)}">'
        f"<p><label>Nouveau mot de passe ({PASSWORD_MIN_LENGTH} caractères au moins)<br>"
        f'<input type="password" name="password" autocomplete="new-password" required '
        f'minlength="{PASSWORD_MIN_LENGTH}" maxlength="{PASSWORD_MAX_LENGTH}"></label></p>'
        f"<p><label>Le même, encore une fois<br>"
        f'<input type="password" name="confirmation" autocomplete="new-password" required '
        f'minlength="{PASSWORD_MIN_LENGTH}" maxlength="{PASSWORD_MAX_LENGTH}"></label></p>'
        "<button>Enregistrer le mot de passe</button></form>"
    )


async def password(request: Request) -> Response:
    """GET: the form, if the link can still be used; POST: the new password."""
    token = request.query_params.get("token", "")
    keys = signing_keys(request.app.state.settings)
    try:
        account = await admin.check_password_reset_link(keys, token)
    except DomainError as error:
        return page("Lien invalide", f"<p>{escape(error.message)}</p>", status=400)
    if request.method == "GET":
        return page(_TITLE, _form(token, account.email))
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        return page(_TITLE, _form(token, account.email, "Formulaire trop long."), status=400)
    fields = parse_qs(body.decode("utf-8", "replace"))
    chosen = fields.get("password", [""])[0]
    if chosen != fields.get("confirmation", [""])[0]:
        problem = "Les deux mots de passe ne sont pas identiques."
        return page(_TITLE, _form(token, account.email, problem), status=400)
    try:
        await admin.reset_password_with_token(keys, token, password=chosen)
    except DomainError as error:
        return page(_TITLE, _form(token, account.email, error.message), status=400)
    return page(
        "Mot de passe enregistré",
        "<p>Votre nouveau mot de passe est enregistré : connectez-vous avec lui. Les sessions "
        "ouvertes avec l'ancien sont fermées.</p>",
    )


def routes() -> list[Route]:
    return [Route("/account/password", password, methods=["GET", "POST"])]
