"""Sections as data: the sections a template declares (their kinds, default order, where
their items are in the query's result, default wording) and those an issue keeps (the
order editors chose, the sections they left out, their own titles, bodies and calls to
action).

A section's wording fields are ``title``, ``body`` (paragraphs separated by a blank line),
``cta`` (the section's call to action) and ``item_cta`` (the wording of each item's link).
On an issue, None means « the template's », an empty string means « none ».
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any

from services.errors import BadUserInput, Problems
from services.newsletters.models import SectionKind
from services.validation import clean_text

TEXT_FIELDS = ("title", "body", "cta", "item_cta")
_MAX = {"title": 300, "body": 10_000, "cta": 200, "item_cta": 200}
# Without them an issue is not a newsletter one may send: the footer carries the
# unsubscribe and preferences links and the postal address.
REQUIRED = frozenset({SectionKind.FOOTER})


@dataclass(frozen=True)
class Section:
    """One section: its kind, where its items come from and how many the query may add
    (templates only), its wording, and ``curated``: only the items editors placed (the
    query adds nothing)."""

    kind: SectionKind
    items: str | None = None
    limit: int | None = None
    title: str | None = None
    body: str | None = None
    cta: str | None = None
    item_cta: str | None = None
    curated: bool = False

    def stored(self) -> dict[str, Any]:
        """The JSON kept on an issue (the item path belongs to the template)."""
        found = asdict(self)
        found.pop("items")
        found.pop("limit")
        found["kind"] = self.kind.value
        return found


def _kind(value: Any) -> SectionKind:
    try:
        return SectionKind(value)
    except ValueError:
        raise BadUserInput(f"Section inconnue : « {str(value)[:40]} ».", field="sections") from None


def _entry(raw: Mapping[str, Any]) -> Section:
    if not isinstance(raw, Mapping) or "kind" not in raw:
        raise BadUserInput("Chaque section est un objet avec « kind ».", field="sections")
    text = {}
    for name in TEXT_FIELDS:
        value = raw.get(name)
        if value is not None and not isinstance(value, str):
            raise BadUserInput(f"« {name} » d'une section doit être un texte.", field="sections")
        text[name] = value
    items, limit = raw.get("items"), raw.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise BadUserInput("« limit » d'une section doit être un entier positif.", field="sections")
    return Section(
        kind=_kind(raw["kind"]),
        items=str(items) if items else None,
        limit=limit,
        curated=bool(raw.get("curated", False)),
        **text,
    )


def declared_sections(raw: Any) -> list[Section]:
    """A template's sections in their default order. The older form, a mapping of kinds to
    item paths, lists its kinds in the order of :class:`SectionKind`."""
    if not raw:
        return []
    if isinstance(raw, Mapping):
        return [
            Section(kind=kind, items=str(raw[kind.value]))
            for kind in SectionKind
            if kind.value in raw
        ]
    if not isinstance(raw, list):
        raise BadUserInput("« sections » doit être une liste de sections.", field="sections")
    found = [_entry(entry) for entry in raw]
    _unique(found)
    return found


def _unique(sections: Iterable[Section]) -> None:
    seen: set[SectionKind] = set()
    for section in sections:
        if section.kind in seen:
            raise BadUserInput(
                f"La section {section.kind.value} apparaît deux fois.", field="sections"
            )
        seen.add(section.kind)


# The GraphQL names of the text fields of a section (NewsletterSectionInput).
_INPUT_NAMES = {
    "title": "title",
    "body": "body",
    "cta": "callToAction",
    "item_cta": "itemCallToAction",
}


def clean_issue_sections(sections: Sequence[Section]) -> list[dict[str, Any]]:
    """What an issue stores: each kind once, the required sections present, wording
    within bounds. Refused with BAD_USER_INPUT otherwise (nothing is stored), every
    problem at once; a section's wording is named by its place (``sections.2.title``)."""
    problems = Problems()
    problems.check(lambda: _unique(sections))
    missing = REQUIRED - {s.kind for s in sections}
    if missing:
        names = ", ".join(sorted(k.value for k in missing))
        problems.add(
            BadUserInput(
                f"Section obligatoire absente : {names} (désabonnement, adresse postale).",
                field="sections",
            )
        )
    cleaned = []
    for index, section in enumerate(sections):
        values = {}
        for name in TEXT_FIELDS:
            value = getattr(section, name)
            if value:
                value = problems.check(
                    partial(
                        clean_text,
                        value.replace("\r\n", "\n"),
                        field=f"sections.{index}.{_INPUT_NAMES[name]}",
                        max_length=_MAX[name],
                        required=False,
                    )
                )
            values[name] = value
        cleaned.append(replace(section, **values).stored())
    problems.raise_any()
    return cleaned


def issue_sections(raw: Any) -> list[Section] | None:
    """An issue's stored sections, or None when it follows its template's."""
    if raw is None:
        return None
    return [_entry(entry) for entry in raw]


def effective_sections(
    declared: Sequence[Section], chosen: Sequence[Section] | None
) -> list[Section]:
    """The sections an issue is composed of: the issue's (in its order, its wording where
    given, the template's otherwise), or the template's as declared."""
    if chosen is None:
        return list(declared)
    by_kind = {s.kind: s for s in declared}
    merged = []
    for section in chosen:
        base = by_kind.get(section.kind, Section(kind=section.kind))
        wording = {
            name: getattr(section, name)
            for name in TEXT_FIELDS
            if getattr(section, name) is not None
        }
        merged.append(replace(base, curated=section.curated, **wording))
    return merged
