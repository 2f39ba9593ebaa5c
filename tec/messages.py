"""What operators read: every message of the ``tec`` command is in English.

Domain errors carry a French message meant for the API's users; the command shows its own
English sentence instead, chosen by the error's code and field and completed with what
the operator typed (``{organization}``, ``{issue}``…). An error this table does not know
still reads in English, with its code and field.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.errors import DomainError, InvalidInput

_BY_CODE_AND_FIELD: Mapping[tuple[str, str | None], str] = {
    ("BAD_USER_INPUT", "role"): "unknown role: choose admin, editor, local-authority or partner",
    ("BAD_USER_INPUT", "email"): "invalid e-mail address",
    ("BAD_USER_INPUT", "password"): "the password must be 12 to 256 characters long",
    ("BAD_USER_INPUT", "displayName"): "display name too long (200 characters at most)",
    ("BAD_USER_INPUT", "territory"): (
        "a local-authority account needs --territory, the slug of an existing territory, "
        "and only such an account takes one"
    ),
    ("BAD_USER_INPUT", "organization"): (
        "a partner account or API key needs --organization, the slug of an existing "
        "organisation, and only those take one"
    ),
    ("CONFLICT", "email"): "an account already exists with this e-mail address",
    ("NOT_FOUND", "email"): "no account has this e-mail address",
    ("BAD_USER_INPUT", "ttl"): "validity must be between 1 second and 366 days",
    ("BAD_USER_INPUT", "scopes"): "scopes are read, contribute or read,contribute",
    ("BAD_USER_INPUT", "name"): "name too long (200 characters at most)",
    ("BAD_USER_INPUT", "key"): (
        "give the API key (tec_k_…) or its prefix, the 8 characters after tec_k_"
    ),
    ("NOT_FOUND", "key"): "no API key matches {key}",
    ("NOT_FOUND", "id"): "no newsletter issue {issue}",
    ("BAD_USER_INPUT", "id"): "no newsletter issue {issue}: give its number or its ID",
    ("CONFLICT", "id"): "issue {issue} can no longer be changed (being sent, sent or cancelled)",
    ("CONFLICT", None): "issue {issue} was already sent or cancelled",
    ("BAD_USER_INPUT", "template"): "the newsletter template was not found",
    ("BAD_USER_INPUT", "audiences"): "the issue's segment names an unknown audience",
    ("BAD_USER_INPUT", "themes"): "the issue's segment names an unknown theme",
    ("BAD_USER_INPUT", "url"): (
        "refused URL: only http(s) to a public address, without credentials "
        "(TEC_WEBHOOKS_ALLOW_PRIVATE admits private addresses)"
    ),
    ("BAD_USER_INPUT", "events"): "missing or unknown event type: `tec webhook events` lists them",
    ("BAD_USER_INPUT", "TEC_MEILI_URL"): "TEC_MEILI_URL is required for the meilisearch engine",
    ("SEARCH_UNAVAILABLE", None): "the search engine did not answer; retry once it is up",
    ("SERVICE_UNAVAILABLE", None): "the database is kept busy by another process; retry",
}

_BY_CODE: Mapping[str, str] = {
    "BAD_USER_INPUT": "invalid value",
    "NOT_FOUND": "not found",
    "CONFLICT": "refused: it conflicts with the current state",
    "FORBIDDEN": "not allowed",
    "SEARCH_UNAVAILABLE": "the search engine did not answer; retry once it is up",
    "SERVICE_UNAVAILABLE": "the database is kept busy by another process; retry",
    "COMPOSITION_FAILED": "the newsletter could not be composed from its template",
}


def operator_message(error: DomainError, **typed: object) -> str:
    """The English sentence an operator reads for ``error``; ``typed`` holds what they
    typed, for the sentences that repeat it."""
    if error.operator_message:
        return error.operator_message
    if isinstance(error, InvalidInput):
        return "; ".join(operator_message(each, **typed) for each in error.errors)
    template = _BY_CODE_AND_FIELD.get((error.code, error.field))
    if template is not None:
        try:
            return template.format(**typed)
        except KeyError:
            pass
    sentence = _BY_CODE.get(error.code, "refused")
    where = f", field {error.field}" if error.field else ""
    return f"{sentence} ({error.code}{where})"
