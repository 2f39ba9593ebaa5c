"""Slugs of titles: ASCII, lower case, words joined by hyphens, letters kept.

python-slugify transliterates with unidecode (installed beside it), the same library the
search folding uses (``search.french.fold``): « Œuvre æquo » → ``oeuvre-aequo``, « Straße »
→ ``strasse``, accents dropped, apostrophes and punctuation turned into hyphens.
"""

from __future__ import annotations

from slugify import slugify as _slugify

FALLBACK = "sans-titre"
# Typographic apostrophes separate words like the ASCII one (« l’action » → ``l-action``).
_APOSTROPHES = [["’", "'"], ["ʼ", "'"], ["‘", "'"]]


def slugify(text: str, *, max_length: int = 80) -> str:
    """ASCII slug of a French title: « Démocratie culturelle » → ``democratie-culturelle``;
    at most ``max_length`` characters, never empty (``sans-titre``)."""
    return _slugify(text, max_length=max_length, replacements=_APOSTROPHES) or FALLBACK
