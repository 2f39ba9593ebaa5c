"""tantivy queries of the embedded engine: French words, typos, prefixes, synonyms, filters.

Every query word becomes the best (``disjunction_max``) of constant-score clauses, one
level each: same stem in the title (4) or elsewhere (3), the last word as a prefix
(same levels), a typo in the title (2) or elsewhere (1). All the words are required, so a
document's score is the sum of its words' levels, and ranking sorts on that sum, then on
the date. ``TextQuery.top`` matches exactly the documents that reach the highest possible
sum (every word in the title without a typo): the engine pages through those by date
first and runs the scored query only when they do not fill the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import tantivy

from search.french import STOP_WORDS, query_units, typo_budget, words
from search.highlight import Matcher
from search.port import SearchRequest, SynonymGroups
from search.vocabulary import Vocabulary

TITLE_EXACT, OTHER_EXACT, TITLE_TYPO, OTHER_TYPO = 4.0, 3.0, 2.0, 1.0
WHOLE_TITLE = 1000.0  # the query is the whole title: above any sum of word levels
TITLE_KEY = "title_key"
TEXT_FIELDS = ("title", "text", "names")
FOLD_FIELDS = tuple(f"{name}_fold" for name in TEXT_FIELDS)
UNSIGNED_FIELDS = ("pk", "themes", "territories", "organizations", "year")
PREFIX_MIN = 2
_FILTER_TERMS_MAX = 16  # up to this many values, a union of term queries beats a term set
_STEM_CACHE_SIZE = 100_000

Option = tuple[float, tantivy.Query]  # (level, clause)


def analyzer(stem: bool) -> tantivy.TextAnalyzer:
    """The fields' analyzer: words folded (``*_fold`` fields), or also stop words left out
    and French stems (``title``, ``text``, ``names``)."""
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(60))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    if stem:
        builder = builder.filter(tantivy.Filter.custom_stopword(list(STOP_WORDS))).filter(
            tantivy.Filter.stemmer("french")
        )
    return builder.build()


def title_key(text: str) -> str:
    """A title or a query reduced to its folded words, stop words left out: a document
    whose ``title_key`` is the query's is an exact title match (« la Démocratie
    culturelle » for « démocratie culturelle »)."""
    found = words(text)
    return " ".join([w for w in found if w not in STOP_WORDS] or found)


@dataclass(frozen=True)
class TextQuery:
    query: tantivy.Query  # the scored query (score = sum of the words' levels)
    top: tantivy.Query  # the documents with the highest possible score
    exact: tantivy.Query  # the documents whose whole title is the query
    matcher: Matcher


def _best(options: list[Option], level: float | None = None) -> tantivy.Query:
    """The best of ``options`` (those of ``level`` only, when given)."""
    clauses = [tantivy.Query.const_score_query(c, lv) for lv, c in options if level in (None, lv)]
    if not clauses:
        return tantivy.Query.empty_query()
    return clauses[0] if len(clauses) == 1 else tantivy.Query.disjunction_max_query(clauses)


def _all(queries: list[tantivy.Query]) -> tantivy.Query:
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])


class QueryBuilder:
    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema
        self._stem_analyzer = analyzer(stem=True)
        self._stem_of: dict[str, str | None] = {}

    def stems(self, word: str) -> list[str]:
        return self._stem_analyzer.analyze(word)

    def stem_one(self, word: str) -> str:
        stems = self.stems(word)
        return stems[0] if stems else word

    def _stem_key(self, term: str) -> str | None:
        """The stem the stemmed fields hold for a folded ``term`` (None: a stop word)."""
        stem = self._stem_of.get(term, "")
        if stem == "":
            if len(self._stem_of) >= _STEM_CACHE_SIZE:
                self._stem_of.clear()
            stems = self.stems(term)
            stem = self._stem_of[term] = stems[0] if stems else None
        return stem

    def word_options(
        self, word: str, *, prefix: bool, vocabulary: Vocabulary | None
    ) -> list[Option]:
        """Same stem in the title / elsewhere, prefix in the title / elsewhere, typo in the
        title / elsewhere, each with its level.

        With the index's vocabulary, the typo and prefix expansions are computed here and
        the terms the stem clauses already match (same stem, at a higher or equal level)
        are left out: usually nothing is left, and tantivy reads each posting list once.
        """
        s, q = self.schema, tantivy.Query
        stems = self.stems(word)[:1]
        budget = typo_budget(word)
        prefix = prefix and len(word) >= PREFIX_MIN
        levels = {
            name: (TITLE_EXACT, TITLE_TYPO) if name == "title" else (OTHER_EXACT, OTHER_TYPO)
            for name in TEXT_FIELDS
        }
        options: list[Option] = []
        for name in TEXT_FIELDS:
            # A stop word typed alone is matched as written.
            exact = (
                q.term_query(s, name, stems[0]) if stems else q.term_query(s, f"{name}_fold", word)
            )
            options.append((levels[name][0], exact))
        if vocabulary is None:  # a generation without a vocabulary: tantivy expands
            for name in TEXT_FIELDS if prefix else ():
                fuzzy = q.fuzzy_term_query(s, f"{name}_fold", word, distance=0, prefix=True)
                options.append((levels[name][0], fuzzy))
            for name in TEXT_FIELDS if budget else ():
                fuzzy = q.fuzzy_term_query(s, f"{name}_fold", word, distance=budget)
                options.append((levels[name][1], fuzzy))
            return options

        def covered(term: str) -> bool:
            return self._stem_key(term) == stems[0] if stems else term == word

        prefixed = [t for t in vocabulary.with_prefix(word) if not covered(t)] if prefix else []
        typos = vocabulary.within_typos(word, budget) if budget else ()
        already = set(prefixed)
        typos = [t for t in typos if t not in already and not covered(t)]
        for terms, rank in ((prefixed, 0), (typos, 1)):
            for name in TEXT_FIELDS if terms else ():
                options.append((levels[name][rank], q.term_set_query(s, f"{name}_fold", terms)))
        return options

    def phrase_options(self, phrase: str) -> list[Option]:
        """Exact (stemmed) phrase in the title or elsewhere: a synonym's alternative."""
        q = tantivy.Query
        stems = self.stems(phrase)
        options: list[Option] = []
        for name in TEXT_FIELDS:
            level = TITLE_EXACT if name == "title" else OTHER_EXACT
            if len(stems) == 1:
                options.append((level, q.term_query(self.schema, name, stems[0])))
            elif stems:
                options.append((level, q.phrase_query(self.schema, name, stems, slop=2)))
        return options

    def unit_options(
        self, unit: tuple[str, ...], *, prefix: bool, vocabulary: Vocabulary | None
    ) -> list[Option]:
        """A query word's options; for an inclusive word (several forms), those of every
        form, any of which may match."""
        if len(unit) == 1:
            return self.word_options(unit[0], prefix=prefix, vocabulary=vocabulary)
        return [
            o for form in unit for o in self.word_options(form, prefix=False, vocabulary=vocabulary)
        ]

    def text_query(
        self, text: str, synonyms: SynonymGroups, vocabulary: Vocabulary | None = None
    ) -> TextQuery | None:
        units = query_units(text)
        if not units:
            return None
        found = [unit[0] for unit in units]
        as_you_type = not text[-1:].isspace() and len(units[-1]) == 1
        entries = {tuple(e.split()): group for group in synonyms for e in group}
        longest = max((len(k) for k in entries), default=0)
        clauses: list[tantivy.Query] = []
        tops: list[tantivy.Query] = []
        alternatives: set[str] = set()
        i = 0
        while i < len(found):
            span, group = 1, None
            for size in range(min(longest, len(found) - i), 0, -1):
                if tuple(found[i : i + size]) in entries:
                    span, group = size, entries[tuple(found[i : i + size])]
                    break
            last = i + span == len(found)
            parts = [
                self.unit_options(
                    u, prefix=as_you_type and last and j == span - 1, vocabulary=vocabulary
                )
                for j, u in enumerate(units[i : i + span])
            ]
            own = _all([_best(p) for p in parts]) if span > 1 else _best(parts[0])
            # A unit's best: all its own words in the title (4 each), or for one word, it
            # or an alternative phrase in the title (4).
            top = _all([_best(p, TITLE_EXACT) for p in parts]) if span > 1 else None
            if group:
                phrase = " ".join(found[i : i + span])
                others = [self.phrase_options(e) for e in group if e != phrase]
                alternatives.update(w for e in group for w in e.split() if w not in STOP_WORDS)
                own = tantivy.Query.disjunction_max_query([own, *(_best(o) for o in others)])
                if top is None:
                    title = [option for o in [parts[0], *others] for option in o]
                    top = _best(title, TITLE_EXACT)
            clauses.append(own)
            tops.append(top if top is not None else _best(parts[0], TITLE_EXACT))
            i += span
        every_form = {form for unit in units for form in unit}
        matcher = Matcher(
            words=tuple(dict.fromkeys([*found, *sorted(every_form)])),
            stems=frozenset(self.stem_one(w) for w in every_form),
            prefix=found[-1] if as_you_type and len(found[-1]) >= PREFIX_MIN else None,
            exact=frozenset(alternatives),
            stem=self.stem_one,
        )
        exact = tantivy.Query.term_query(self.schema, TITLE_KEY, title_key(text))
        scored = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, _all(clauses)),
                (tantivy.Occur.Should, tantivy.Query.const_score_query(exact, WHOLE_TITLE)),
            ]
        )
        return TextQuery(query=scored, top=_all(tops), exact=exact, matcher=matcher)

    def with_filters(self, query: tantivy.Query, request: SearchRequest) -> tantivy.Query:
        conditions = request.filter.conditions()
        if not conditions:
            return query
        q = tantivy.Query
        clauses = [query]
        for name, values in conditions:
            if name in UNSIGNED_FIELDS:
                accepted: list[int] | list[str] = [int(v) for v in values]
            else:
                accepted = [str(v) for v in values]
            if len(accepted) <= _FILTER_TERMS_MAX:
                union = [
                    (tantivy.Occur.Should, q.term_query(self.schema, name, v)) for v in accepted
                ]
                condition = q.boolean_query(union)
            else:
                condition = q.term_set_query(self.schema, name, accepted)
            clauses.append(q.const_score_query(condition, 0.0))
        return _all(clauses)
