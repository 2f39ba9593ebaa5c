"""Expected failures of newsletters."""

from __future__ import annotations

from services.errors import DomainError


class CompositionFailed(DomainError):
    """The template's GraphQL document answered with errors: nothing is composed or sent.
    ``errors`` keeps them as GraphQL returned them (message, path, locations)."""

    code = "COMPOSITION_FAILED"

    def __init__(self, errors: list[dict]) -> None:
        shown = "; ".join(str(e.get("message", e)) for e in errors[:5])
        super().__init__(f"La requête GraphQL du gabarit a échoué : {shown}", field="template")
        self.errors = errors
