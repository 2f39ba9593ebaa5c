"""French text helpers shared by both engines: stop words, default synonyms, folding,
query words and typo budgets (the same rules as Meilisearch's defaults)."""

from __future__ import annotations

import re
import unicodedata

STOP_WORDS: tuple[str, ...] = tuple(
    [
        "a",
        "au",
        "aux",
        "avec",
        "ce",
        "ces",
        "c",
        "d",
        "dans",
        "de",
        "des",
        "du",
        "elle",
        "en",
        "et",
        "eux",
        "il",
        "ils",
        "je",
        "j",
        "l",
        "la",
        "le",
        "les",
        "leur",
        "leurs",
        "lui",
        "m",
        "ma",
        "mais",
        "me",
        "meme",
        "mes",
        "moi",
        "mon",
        "n",
        "ne",
        "nos",
        "notre",
        "nous",
        "on",
        "ou",
        "par",
        "pas",
        "pour",
        "qu",
        "que",
        "qui",
        "s",
        "sa",
        "se",
        "ses",
        "son",
        "sur",
        "t",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "y",
        "ete",
        "etait",
        "etaient",
        "est",
        "sont",
        "etre",
        "avoir",
        "ont",
        "a",
        "as",
        "cet",
        "cette",
        "ceux",
        "celle",
        "celles",
        "dont",
        "lors",
        "sans",
        "sous",
    ]
)
"""Words ignored by search (accents folded): articles, pronouns, prepositions."""

DEFAULT_SYNONYMS: list[list[str]] = [
    ["epci", "intercommunalite", "communaute de communes"],
    ["ado", "ados", "adolescent", "adolescente"],
    ["cndp", "commission nationale du debat public"],
    ["anct", "agence nationale de la cohesion des territoires"],
]
"""Synonym groups installed with a new index; editors change them through GraphQL."""

_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case without accents: « Démocratie » → ``democratie``."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Folded words of ``text``; punctuation and query-syntax characters are separators."""
    return _WORD.findall(fold(text).replace("_", " "))


def query_words(text: str) -> list[str]:
    """The words a query searches for: folded, stop words left out (unless the query is
    nothing but stop words, then they are kept)."""
    found = words(text)
    kept = [w for w in found if w not in STOP_WORDS]
    return kept or found


def typo_budget(word: str) -> int:
    """Typos tolerated in a word: none under 5 letters, one from 5, two from 9."""
    if len(word) >= 9:
        return 2
    if len(word) >= 5:
        return 1
    return 0


def normalize_synonyms(groups: list[list[str]]) -> list[list[str]]:
    """Folded, de-duplicated groups of at least two entries, each entry at most 5 words."""
    cleaned: list[list[str]] = []
    for group in groups:
        entries: list[str] = []
        for entry in group:
            normal = " ".join(words(entry)[:5])
            if normal and normal not in entries:
                entries.append(normal)
        if len(entries) >= 2:
            cleaned.append(entries)
    return cleaned


def within_typos(candidate: str, word: str, budget: int) -> bool:
    """True when ``candidate`` is at most ``budget`` edits (Damerau) from ``word``."""
    if budget == 0 or abs(len(candidate) - len(word)) > budget:
        return candidate == word
    return _distance(candidate, word, budget) <= budget


def _distance(a: str, b: str, cap: int) -> int:
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > cap:
            return cap + 1
        previous2, previous = previous, current
    return previous[-1]
