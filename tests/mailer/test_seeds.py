"""The seed newsletters (000, 001, 002, 004), rebuilt from content: each seed file is read
into sections (tests/mailer/seeds.py) and compared, section by section, with the issue the
demo composes from the platform's content, as of the issue's date, and puts in the archive.

Compared: the sections and their order; each section's heading; its items, in order; its
calls to action; the text of the seed's section (every paragraph of the seed is in the
composed section); the footer's wording. What the data cannot produce is listed in
EXCEPTIONS with the reason, and every listed exception must still be a difference (a stale
exception fails too). The comparison is written to var/seed-comparison.md.
"""

from __future__ import annotations

import json
import re

import pytest

from mailer.sending import public_render
from services.demo.loader import read_demo_data
from tests.mailer import support
from tests.mailer.reading import ComposedSection, clean
from tests.mailer.reading import sections as read_composed
from tests.mailer.seeds import (
    LINK,
    NEWSLETTER_SEEDS,
    SEEDS,
    SeedSection,
    ctas_of,
    date_tokens,
    fold,
    read_seed,
)

archived = support.archived
news_settings = support.news_settings
news_app = support.news_app
news_client = support.news_client
news_gql = support.news_gql
outbox = support.outbox

pytestmark = pytest.mark.skipif(
    not SEEDS.is_dir(), reason=f"seed newsletters not found in {SEEDS} (TEC_SEEDS_DIR)"
)

# (seed, section kind, aspect) → why the composed issue differs from the seed there.
EXCEPTIONS: dict[tuple[str, str, str], str] = {
    ("000", "FOOTER", "footer"): "the seed's footer is the mailing tool's English boilerplate "
    "(« Copyright (C) 2021 … All rights reserved. », « Our mailing address is: », « Want to "
    "change how you receive these emails? »); the template writes the French wording of the "
    "later seeds, with the Creative Commons licence",
    ("000", "PARTNER_NEWS", "text"): "the seed's first news item runs the resource's whole "
    "text, with links inside; the data holds its summary (the platform shows the rest on the "
    "resource's page)",
    ("001", "VOTE", "items"): "the seed runs the white paper's text under the vote without a "
    "heading; the template shows every resource placed in a section under its title (h3)",
    ("001", "VOTE", "text"): "the white paper's body (« Au 1er tour des élections Régionales "
    "… ») is the resource's text; the newsletter shows resources by their summary",
    ("001", "CONCEPT", "ctas"): "« Vous pouvez télécharger le schéma ici. » links a picture "
    "the data does not hold: the sentence ends the concept's text, without a link",
}
ASPECTS = ("order", "heading", "items", "ctas", "text", "footer")
# Sections that have no heading in the seeds nor in the composed issue.
UNTITLED = {"VIEW_IN_BROWSER", "INTRODUCTION", "FOOTER"}


def _titles(data: dict) -> dict[str, list[str]]:
    """The platform's titles that may be a section's items (tests/mailer/seeds.py)."""
    resources = [r["title"] for r in data["resources"]]
    return {
        "INTRODUCTION": resources,
        "THEME_OF_THE_MONTH": resources,
        "INTRODUCTORY_RESOURCE": resources,
        "INSPIRING_PROJECTS": resources,
        "VOTE": resources,
        "PARTNER_NEWS": resources,
        "AGENDA": [e["title"] for e in data["events"]],
        "SHARED_PROJECTS": [p["title"] for p in data["shared_projects"]],
    }


def _matches(a: str, b: str) -> bool:
    """Same item: one title holds the other, or they share their first 20 characters (an
    agenda line adds the date or the place to the event's title)."""
    x, y = fold(a), fold(b)
    if not x or not y:
        return False
    shorter = min(len(x), len(y))
    common = len(next((x[:i] for i in range(shorter, 0, -1) if x[:i] == y[:i]), ""))
    return x in y or y in x or common >= min(20, shorter)


def _merged(composed: list[ComposedSection]) -> list[ComposedSection]:
    """Composed sections as a reader of the seed sees them: without the header (title,
    greeting), a section without a heading read as part of the one before."""
    found: list[ComposedSection] = []
    for section in composed:
        if section.kind == "HEADER":
            continue
        if found and not section.headings and section.kind not in UNTITLED:
            previous = found[-1]
            previous.items += section.items
            previous.ctas += section.ctas
            previous.text += " " + section.text
            continue
        found.append(section)
    return found


def _unique(labels: list[str]) -> list[str]:
    """Calls to action, a label repeated right after itself counted once (the seeds
    double or drop the « En savoir plus » of some items)."""
    found: list[str] = []
    for label in labels:
        if not found or fold(found[-1]) != fold(label):
            found.append(label)
    return found


def _compare_section(seed: SeedSection, made: ComposedSection) -> dict[str, str]:
    """{aspect: what differs} for one section (empty: the same)."""
    differences: dict[str, str] = {}
    heading = made.headings[0] if made.headings else ""
    if fold(seed.heading) != fold(heading):
        differences["heading"] = f"seed « {seed.heading} », composed « {heading} »"
    # Items: the seed's, in order, among the composed ones; every composed h3 is in the seed.
    position, missing = 0, []
    for item in seed.items:
        found = next(
            (i for i in range(position, len(made.items)) if _matches(item, made.items[i])), None
        )
        if found is None:
            missing.append(item)
        else:
            position = found + 1
    text_blocks = [b for b in seed.blocks if not ctas_of(b)]
    extra = [h for h in made.items if not any(_matches(h, block) for block in text_blocks)]
    if missing or extra:
        differences["items"] = f"missing {missing}, not in the seed {extra}"
    seed_ctas, made_ctas = _unique(seed.ctas), _unique(made.ctas)
    if [fold(c) for c in seed_ctas] != [fold(c) for c in made_ctas]:
        differences["ctas"] = f"seed {seed_ctas}, composed {made_ctas}"
    text = fold(made.text)
    if seed.kind == "FOOTER":
        absent = [b for b in seed.blocks if not ctas_of(b) and fold(LINK.sub(r"\1", b)) not in text]
        if absent:
            differences["footer"] = f"not in the composed footer: {absent}"
    else:
        words = set(re.sub(r"\b1er\b", "1", text).split())
        absent = [
            b
            for b in seed.blocks
            if not ctas_of(b)
            and not _is_item(b, seed)
            and fold(LINK.sub(r"\1", b)) not in text
            and not ((tokens := date_tokens(b)) and tokens <= words)
        ]
        if absent:
            differences["text"] = f"not in the composed section: {[a[:60] for a in absent]}"
    return differences


def _is_item(block: str, seed: SeedSection) -> bool:
    return block in seed.items


def compare(number: str, html: str, data: dict) -> list[tuple[str, str, str]]:
    """(kind, aspect, difference) of seed ``number`` against a composed issue."""
    return compare_sections(read_seed(number, _titles(data)), _merged(read_composed(html)))


def compare_sections(
    seed: list[SeedSection], made: list[ComposedSection]
) -> list[tuple[str, str, str]]:
    """(kind, aspect, difference); ``order`` compares the kinds (and stops there)."""
    rows: list[tuple[str, str, str]] = []
    seed_kinds, made_kinds = [s.kind for s in seed], [s.kind for s in made]
    if seed_kinds != made_kinds:
        rows.append(("*", "order", f"seed {seed_kinds}, composed {made_kinds}"))
        return rows
    for seed_section, made_section in zip(seed, made, strict=True):
        for aspect, difference in _compare_section(seed_section, made_section).items():
            rows.append((seed_section.kind, aspect, difference))
    return rows


def _report(results: dict[str, tuple[list[SeedSection], list[tuple[str, str, str]]]]) -> str:
    lines = ["# Seed newsletters rebuilt from content: comparison", ""]
    for number, (seed, rows) in results.items():
        lines += [f"## Seed {number}", "", "| section | " + " | ".join(ASPECTS[1:]) + " |"]
        lines.append("| --- " * len(ASPECTS) + "|")
        differing = {(k, a): d for k, a, d in rows}
        for section in seed:
            cells = []
            for aspect in ASPECTS[1:]:
                if (aspect == "footer") != (section.kind == "FOOTER") and aspect in (
                    "text",
                    "footer",
                ):
                    cells.append("—")
                elif (section.kind, aspect) not in differing:
                    cells.append("same")
                elif (number, section.kind, aspect) in EXCEPTIONS:
                    cells.append("exception")
                else:
                    cells.append("DIFFERENT")
            lines.append(f"| {section.kind} | " + " | ".join(cells) + " |")
        listed = [(k, a, r) for (n, k, a), r in EXCEPTIONS.items() if n == number]
        if listed:
            lines += ["", "Exceptions:"]
            lines += [f"- {k} / {a}: {r}" for k, a, r in listed]
        lines.append("")
    return "\n".join(lines)


async def test_every_seed_is_rebuilt_section_by_section(archived, repo_root):
    data = read_demo_data()
    results = {}
    unexpected, stale = [], []
    for number in NEWSLETTER_SEEDS:
        rows = compare(number, archived[number], data)
        results[number] = (read_seed(number, _titles(data)), rows)
        found = {(number, kind, aspect) for kind, aspect, _ in rows}
        unexpected += [(number, k, a, d) for k, a, d in rows if (number, k, a) not in EXCEPTIONS]
        stale += [key for key in EXCEPTIONS if key[0] == number and key not in found]
    report = repo_root / "var" / "seed-comparison.md"
    report.parent.mkdir(exist_ok=True)
    report.write_text(_report(results), encoding="utf-8")
    assert not unexpected, json.dumps(unexpected, ensure_ascii=False, indent=1)
    assert not stale, f"exceptions that are no longer differences: {stale}"


async def test_the_seeds_are_in_the_archive_as_sent(archived, news_gql, news_client):
    listed = await news_gql.data("{ newsletterArchive(first: 100) { nodes { slug sentAt } } }")
    slugs = [n["slug"] for n in listed["newsletterArchive"]["nodes"]]
    assert {"2021-06", "2021-07", "2022-09", "2022-11"} <= set(slugs)
    page = await news_client.get("/newsletters/2022-11")
    assert page.status_code == 200
    assert "Le passage à l" in page.text and "Votez pour une thématique" in page.text


async def test_seeds_are_composed_as_of_their_date(archived, news_settings):
    """In November 2022 the vote was open, the shared project of 2021 was at its first
    stage in June 2021, and the licence carries the issue's year."""
    by_kind = {s.kind: s for s in read_composed(archived["004"])}
    assert by_kind["VOTE"].ctas == ["Votez pour une thématique"]
    assert "Contenus en Creative Commons 2022" in by_kind["FOOTER"].text
    june = {s.kind: s for s in read_composed(archived["000"])}
    assert "Étape en cours : L'engagement dans un projet partagé" in june["SHARED_PROJECTS"].text
    assert "Terminé" not in june["SHARED_PROJECTS"].text
    assert "Contenus en Creative Commons 2021" in june["FOOTER"].text
    # The concept's further reading is a link to its page, not a link to its own sentence.
    assert 'href="https://territoires-en-commun.fr/concepts/la-cooperation"' in archived["004"]
    assert 'href="Pour aller plus loin' not in archived["004"]
    rendered = public_render(archived["004"], news_settings)
    assert "/graphql" not in rendered


def _as_composed(seed: list[SeedSection]) -> list[ComposedSection]:
    return [
        ComposedSection(
            kind=s.kind,
            headings=[s.heading] if s.heading else [],
            items=list(s.items),
            ctas=list(s.ctas),
            text=" ".join(LINK.sub(r"\1", b) for b in s.blocks),
        )
        for s in seed
    ]


def test_the_comparison_catches_what_differs():
    """The comparison itself: the seed against its own reading is the same; a section
    left out, two swapped, an item dropped, a call to action or a heading changed differ."""
    seed = read_seed("004", _titles(read_demo_data()))
    assert compare_sections(seed, _as_composed(seed)) == []
    missing = _as_composed(seed)
    del missing[3]
    assert compare_sections(seed, missing)[0][1] == "order"
    swapped = _as_composed(seed)
    swapped[5], swapped[6] = swapped[6], swapped[5]
    assert compare_sections(seed, swapped)[0][1] == "order"
    changed = _as_composed(seed)
    inspiring = next(s for s in changed if s.kind == "INSPIRING_PROJECTS")
    inspiring.items.pop(1)
    inspiring.headings = ["Autre titre"]
    vote = next(s for s in changed if s.kind == "VOTE")
    vote.ctas = []
    found = {(kind, aspect) for kind, aspect, _ in compare_sections(seed, changed)}
    assert found == {
        ("INSPIRING_PROJECTS", "items"),
        ("INSPIRING_PROJECTS", "heading"),
        ("VOTE", "ctas"),
    }
    assert _matches("Le Salon des Maires, Paris", "Le Salon des Maires")
    assert not _matches("Décider Ensemble recrute !", "Le Salon des Maires")
    assert clean("a\u00a0:\u202fb") == "a : b"
