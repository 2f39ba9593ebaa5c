"""French text helpers shared by both engines: stop words, default synonyms, folding,
inclusive writing, query words and typo budgets (the same rules as Meilisearch's
defaults)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from rapidfuzz.distance import OSA
from unidecode import unidecode

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
MAX_QUERY_WORDS = 10
"""Words of a query that count, the rest ignored: Meilisearch's rule, kept by both engines."""
SYNONYM_WORDS_MAX = 12
"""Words of one synonym entry (« agence nationale de la cohésion des territoires »: 7)."""

# Inclusive writing (« écriture inclusive »): a word, then its feminine ending after a
# middle dot, a full stop or a bullet (« adolescent·e·s », « habitant.es », « acteur·rice·s »),
# or in parentheses (« citoyen(ne)s »), then an optional plural mark.
_POINT = "[.·•⋅‧∙]"
_ENDINGS = "|".join(
    f"{ending}|{ending}s"
    for ending in ("e", "ne", "le", "te", "rice", "euse", "ive", "ve", "ère", "ere", "se")
)
INCLUSIVE = re.compile(
    rf"\b(?P<base>[^\W\d_]{{2,}}?)"
    rf"(?:(?P<point>{_POINT})(?P<fem>{_ENDINGS}){_POINT}?s?"
    rf"|\((?P<pfem>{_ENDINGS})\)s?)"
    rf"(?![\w])",
    re.IGNORECASE,
)


def _feminine(base: str, ending: str) -> str:
    """The feminine singular of ``base`` given its inclusive ending (``acteur`` + ``rice``
    → ``actrice``, ``sportif`` + ``ve`` → ``sportive``, ``conseiller`` + ``ère`` →
    ``conseillère``)."""
    low = base.lower()
    if ending in ("rice", "euse") and low.endswith("eur"):
        return base[:-3] + ("r" if ending == "rice" else "") + ending.removeprefix("r")
    if ending in ("ve", "ive") and low.endswith("f"):
        return base[:-1] + "ve"
    if ending in ("ère", "ere") and low.endswith("er"):
        return base[:-2] + ending
    if ending == "se" and low.endswith("x"):
        return base[:-1] + ending
    return base + ending


def inclusive_forms(word: str) -> tuple[str, ...]:
    """Masculine, feminine, singular and plural forms of an inclusive word
    (« élu·e·s » → élu, élue, élus, élues); ``()`` for an ordinary word."""
    match = INCLUSIVE.fullmatch(word)
    return _forms(match) if match else ()


def _forms(match: re.Match[str]) -> tuple[str, ...]:
    base = match["base"]
    ending = match["fem"] or match["pfem"]
    if match["point"] == "." and not (ending.islower() or base.isupper()):
        return ()  # « communes.Les »: two sentences, not an inclusive word
    ending = ending.lower()
    if ending.endswith("s"):  # « habitant·es »: the feminine and the plural at once
        ending = ending[:-1]
    feminine = _feminine(base, ending)
    # Every form, whatever the inclusive word's number: « élu·e » finds « élus » too.
    plural = base if base.lower().endswith(("s", "x")) else f"{base}s"
    return tuple(dict.fromkeys([base, feminine, plural, f"{feminine}s"]))


_FULL_STOP_THEN_LETTER = re.compile(r"\.(?=[^\W\d_])")


def _maybe_inclusive(text: str) -> bool:
    """Cheap test first: texts without a middle dot, a parenthesis or a full stop followed
    by a letter (most) skip the full pattern, which costs more than the rest of indexing
    a document."""
    return any(c in text for c in "·•⋅‧∙(") or _FULL_STOP_THEN_LETTER.search(text) is not None


def inclusive_words(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each inclusive word of ``text`` with its forms, in order."""
    if not _maybe_inclusive(text):
        return []
    return [(m.group(), _forms(m)) for m in INCLUSIVE.finditer(text) if _forms(m)]


def inclusive_expansion(text: str) -> str:
    """Every form of every inclusive word of ``text``, space-separated (indexed beside the
    text, so that each form finds it); empty when there is none."""
    return " ".join(form for _word, forms in inclusive_words(text) for form in forms)


def with_inclusive_forms(text: str, *, first_only: bool = False) -> str:
    """``text`` with each inclusive word replaced by its forms (« les élu·e·s » → « les élu
    élue élus élues »), or by the first one only."""
    return replace_inclusive_words(text, lambda forms: forms[0] if first_only else " ".join(forms))


def replace_inclusive_words(text: str, by: Callable[[tuple[str, ...]], str]) -> str:
    """``text`` with each inclusive word replaced by what ``by`` makes of its forms (the
    masculine singular first)."""

    def replace(match: re.Match[str]) -> str:
        forms = _forms(match)
        return by(forms) if forms else match.group()

    return INCLUSIVE.sub(replace, text) if _maybe_inclusive(text) else text


# ``_feminine`` read backwards, on folded words: (feminine ending, what it replaced at the
# end of the masculine) — « actrice » is « act » + « rice » where « acteur » ends « eur ».
_FOLDED_ENDINGS = ("e", "ne", "le", "te", "rice", "euse", "ive", "ve", "ere", "se")
_REPLACED = {"rice": "eur", "euse": "eur", "ive": "if", "ve": "f", "ere": "er", "se": "x"}


@lru_cache(maxsize=65_536)
def inclusive_bases(word: str) -> tuple[str, ...]:
    """The masculine singulars of the inclusive words whose forms (``inclusive_forms``)
    include the folded ``word``: « actrices » → actrices, actrice, acteur…, « élus » →
    élus, élu (folded). A superset: most are no word at all (« actric »), harmless, as
    only an inclusive word's own masculine singular is ever looked for."""
    singulars = [word, word[:-1]] if word.endswith("s") else [word]
    found = dict.fromkeys(singulars)  # the masculine forms: base, base + s
    for feminine in singulars:
        for ending in _FOLDED_ENDINGS:
            if feminine.endswith(ending):
                stem = feminine[: -len(ending)]
                found[stem] = None
                if ending in _REPLACED:
                    found[stem + _REPLACED[ending]] = None
    return tuple(b for b in found if len(b) >= 2)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    # Latin letters that do not decompose (œ, æ, ß, ø, ł, đ…) are transliterated as
    # tantivy's ASCII folding does (Lucene's table: œ → oe, ß → ss); other scripts are kept.
    if char.isascii():
        return char
    name = unicodedata.name(char, "")
    if name.startswith("LATIN") or name.startswith("MODIFIER LETTER"):
        return unidecode(char).lower()
    return char


def fold(text: str) -> str:
    """Lower case without accents, letters kept: « Démocratie » → ``democratie``,
    « Œuvre » → ``oeuvre``, « Straße » → ``strasse``, « ﬁn » → ``fin``."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    if stripped.isascii():
        return stripped
    return "".join(_fold_char(c) for c in stripped)


def words(text: str) -> list[str]:
    """Folded words of ``text``; punctuation and query-syntax characters are separators."""
    return _WORD.findall(fold(text).replace("_", " "))


def query_units(text: str) -> list[tuple[str, ...]]:
    """What a query searches for, one tuple a word: the folded word, or for an inclusive
    word each of its forms (any of which may match). Stop words are left out unless the
    query is nothing but stop words."""
    units: list[tuple[str, ...]] = []
    last = 0
    for match in INCLUSIVE.finditer(text) if _maybe_inclusive(text) else ():
        forms = _forms(match)
        if not forms:
            continue
        units += [(w,) for w in words(text[last : match.start()])]
        folded = tuple(dict.fromkeys(fold(f) for f in forms))
        units.append(folded)
        last = match.end()
    units += [(w,) for w in words(text[last:])]
    units = units[:MAX_QUERY_WORDS]
    kept = [u for u in units if len(u) > 1 or u[0] not in STOP_WORDS]
    return kept or units


def query_words(text: str) -> list[str]:
    """The words a query searches for: folded, stop words left out (unless the query is
    nothing but stop words, then they are kept); an inclusive word counts as its first
    form."""
    return [unit[0] for unit in query_units(text)]


def typo_budget(word: str) -> int:
    """Typos tolerated in a word: none under 5 letters, one from 5, two from 9."""
    if len(word) >= 9:
        return 2
    if len(word) >= 5:
        return 1
    return 0


def normalize_synonyms(groups: list[list[str]]) -> list[list[str]]:
    """Folded, de-duplicated groups of at least two entries, each entry at most
    ``SYNONYM_WORDS_MAX`` words."""
    cleaned: list[list[str]] = []
    for group in groups:
        entries: list[str] = []
        for entry in group:
            normal = " ".join(words(entry)[:SYNONYM_WORDS_MAX])
            if normal and normal not in entries:
                entries.append(normal)
        if len(entries) >= 2:
            cleaned.append(entries)
    return cleaned


def within_typos(candidate: str, word: str, budget: int) -> bool:
    """True when ``candidate`` is at most ``budget`` edits from ``word`` (optimal string
    alignment: an adjacent transposition counts one, as tantivy's fuzzy queries count)."""
    if budget == 0 or abs(len(candidate) - len(word)) > budget:
        return candidate == word
    return OSA.distance(candidate, word, score_cutoff=budget) <= budget
