"""Reading the seed newsletters (``/work/shared/seeds/*.txt``, or ``TEC_SEEDS_DIR``): plain
text exported from the e-mails, one block per paragraph, links as ``[label](#)``.

A seed is cut into sections where a block reads like a section's heading (« Thématique du
mois », « A vos agendas ! »…). In each section:

- heading: the block that opened it;
- calls to action: blocks made only of links (``[En savoir plus](#)``), and the button
  lines of the e-mails (« C'est ici ! », « Découvrez cette expérience »…): short blocks
  that start like a call to action and do not end a sentence;
- items: blocks that start with (or, after a kind such as « EXPÉRIENCE - », hold) the
  title of a resource, event or shared project of the platform — the only vocabulary the
  plain text gives to tell a title from a paragraph;
- the footer's wording: its blocks, links reduced to their labels.

Logos (blocks of one- to three-word lines, such as « AGENCE / NATIONALE / … ») are left
out; text between them and the first heading is the introduction.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

SEEDS = Path(os.environ.get("TEC_SEEDS_DIR", "/work/shared/seeds"))
NEWSLETTER_SEEDS = ("000", "001", "002", "004")

# Block → kind of the section it opens. Order matters: the first match wins.
HEADINGS: list[tuple[str, re.Pattern[str]]] = [
    ("VIEW_IN_BROWSER", re.compile(r"^\[?Voir cette newsletter dans votre navigateur")),
    ("THEME_OF_THE_MONTH", re.compile(r"^Thématique du mois")),
    ("INTRODUCTORY_RESOURCE", re.compile(r"^En introduction")),
    ("INSPIRING_PROJECTS", re.compile(r"^Projets démocratiques et expériences territoriales")),
    ("NEXT_THEME", re.compile(r"(^Contribuez|contribuer) à la prochaine thématique")),
    ("VOTE", re.compile(r"Votez pour les thématiques des projets partagés")),
    ("CONCEPT", re.compile(r"^Le concept du mois")),
    ("SHARED_PROJECTS", re.compile(r"^Aller plus loin : Les projets partagés")),
    ("PARTNER_NEWS", re.compile(r"^Actualités (de l'écosystème|des partenaires)")),
    ("AGENDA", re.compile(r"^A vos agendas")),
    (
        "FOOTER",
        re.compile(
            r"^(Suivez l'actualité de Territoires|N'hésitez pas à partager ces actualités"
            r"|Des questions ou des commentaires)"
        ),
    ),
]
# A section whose heading is its subject's title: the block right before a block that
# says what the section is (the seed of June 2021 titles its concept by the concept).
HEADING_BEFORE = [("CONCEPT", re.compile(r"présentation d'un concept de la théorie"))]
# Lead paragraphs the seeds put above a section's heading.
LEADS = [("THEME_OF_THE_MONTH", re.compile(r"^Tous les (deux )?mois, Territoires en Commun"))]
CTA_START = re.compile(
    r"^(Découvr|Votez pour une|J'envoie ma ressource|Inscrivez-vous|C'est ici|Télécharg"
    r"|Candidatez|Contactez-nous|Plus d'informations|En savoir plus)"
)
LINK = re.compile(r"\[([^\]]*)\]\(#\)")
_MONTHS = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
DATE_LINE = re.compile(
    rf"^(les|du|le|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\b.*\b({_MONTHS})\b",
    re.IGNORECASE,
)


@dataclass
class SeedSection:
    kind: str
    heading: str = ""
    blocks: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    ctas: list[str] = field(default_factory=list)


def fold(text: str) -> str:
    """Compared text: case, accents, quotes, punctuation and spacing aside."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("æ", "ae").replace("œ", "oe")
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def date_tokens(block: str) -> set[str] | None:
    """The days and months of a date line (« Mardi, 13 décembre, de 11h à 12h, en
    visioconférence. » → {"13", "decembre"}), None for other blocks. The seeds write their
    dates by hand, each its own way; the template writes them from the events' dates."""
    if len(block) > 160 or not DATE_LINE.search(block):
        return None
    days = re.findall(r"\b(\d{1,2})(?:er)?\b(?![h:\d])", block)
    months = re.findall(rf"\b({_MONTHS})\b", block, re.IGNORECASE)
    return {d.lstrip("0") for d in days} | {fold(m) for m in months}


def blocks(text: str) -> list[str]:
    """Paragraphs, lines of one paragraph joined."""
    return [
        re.sub(r"\s*\n\s*", " ", b).strip().replace("**", "")
        for b in re.split(r"\n\s*\n", text)
        if b.strip()
    ]


def _is_logo(block: str, raw: str) -> bool:
    lines = [line.strip() for line in raw.strip().splitlines() if line.strip()]
    return (
        len(lines) > 1
        and all(len(line.split()) <= 3 for line in lines)
        and not re.search(r"[^\w\s]", raw)
    )


def ctas_of(block: str) -> list[str]:
    """The calls to action a block is made of (none when it is text)."""
    if LINK.search(block) and not LINK.sub("", block).strip():
        return [label.strip() for label in LINK.findall(block)]
    if (
        CTA_START.match(block)
        and len(block) <= 90
        and not block.rstrip().endswith((".", ":"))
        and "[" not in block
    ):
        return [block.strip()]
    return []


def _names_an_item(block: str, titles: list[str]) -> bool:
    """A block that starts with a title, or holds one and does not end a sentence
    (« EXPÉRIENCE - "L'école du dehors"… »; not a summary that mentions an event)."""
    folded = fold(block)
    sentence = block.rstrip().endswith((".", "!"))
    return any(
        folded.startswith(fold(title))
        or (not sentence and len(title) > 25 and fold(title) in folded)
        for title in titles
    )


def read_seed(number: str, titles: dict[str, list[str]]) -> list[SeedSection]:
    """The sections of seed ``number``. ``titles``: for each kind of section with a list of
    items, the titles of the platform's content that may be those items."""
    path = next(SEEDS.glob(f"{number}_*.txt"))
    raw_blocks = [b for b in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if b.strip()]
    found: list[SeedSection] = []
    current = SeedSection(kind="HEADER")
    pending_lead: list[str] = []
    flat = [(re.sub(r"\s*\n\s*", " ", b).strip().replace("**", ""), b) for b in raw_blocks]
    for index, (block, raw) in enumerate(flat):
        if _is_logo(block, raw):
            continue
        kind = next((k for k, pattern in HEADINGS if pattern.search(block)), None)
        if kind is None and index + 1 < len(flat):
            following = flat[index + 1][0]
            kind = next((k for k, p in HEADING_BEFORE if p.search(following)), None)
        if kind == "FOOTER" and current.kind == "FOOTER":
            kind = None
        lead = next((k for k, pattern in LEADS if pattern.search(block)), None)
        if lead is not None:
            pending_lead.append(block)
            continue
        if kind is not None and (kind != current.kind or kind == "VIEW_IN_BROWSER"):
            found.append(current)
            current = SeedSection(kind=kind, heading=LINK.sub(r"\1", block))
            current.blocks.extend(pending_lead)
            pending_lead = []
            if kind == "VIEW_IN_BROWSER":
                current.heading, current.ctas = "", ctas_of(block)
            if kind == "FOOTER":
                current.heading = ""
                current.blocks.append(block)
            continue
        if current.kind == "VIEW_IN_BROWSER":  # the text under the logos
            found.append(current)
            current = SeedSection(kind="INTRODUCTION")
        current.blocks.extend(pending_lead)
        pending_lead = []
        current.blocks.append(block)
        ctas = ctas_of(block)
        if ctas:
            current.ctas.extend(ctas)
            continue
        if (
            current.kind in titles
            and len(block) <= 200
            and _names_an_item(block, titles[current.kind])
        ):
            current.items.append(block)
    found.append(current)
    return [s for s in found if s.kind != "HEADER"]
