"""Expected failures of newsletters."""

from __future__ import annotations

from services.errors import DomainError


class CompositionFailed(DomainError):
    """The template's GraphQL document answered with errors: nothing is composed or sent.
    ``errors`` keeps them as GraphQL returned them (message, path, locations); ``field``
    names the document: the issue's template, or the ``document`` of a template being
    stored."""

    code = "COMPOSITION_FAILED"

    def __init__(self, errors: list[dict], *, field: str = "template") -> None:
        shown = "; ".join(str(e.get("message", e)) for e in errors[:5])
        super().__init__(f"La requête GraphQL du gabarit a échoué : {shown}", field=field)
        self.errors = errors
