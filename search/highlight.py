"""Marking matched words in titles and snippets, for engines that do not do it."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from search.french import fold, typo_budget, within_typos

_WORD = re.compile(r"\w+", re.UNICODE)
SNIPPET_CHARS = 220


@dataclass(frozen=True)
class Matcher:
    """Decides whether a word of a document matches the query, the way the engine does:
    same stem, same folded word, prefix of the last query word, or within the typo
    budget (first letter kept)."""

    words: tuple[str, ...]
    stems: frozenset[str]
    prefix: str | None
    exact: frozenset[str] = field(default_factory=frozenset)
    stem: Callable[[str], str] = lambda w: w

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cache", {})

    def matches(self, word: str) -> bool:
        cache: dict[str, bool] = self._cache  # type: ignore[attr-defined]
        found = cache.get(word)
        if found is None:
            found = cache[word] = self._match(fold(word))
        return found

    def _match(self, folded: str) -> bool:
        if folded in self.exact or folded in self.words:
            return True
        if self.prefix and folded.startswith(self.prefix):
            return True
        for word in self.words:
            budget = typo_budget(word)
            if budget and folded[:1] == word[:1] and within_typos(folded, word, budget):
                return True
        return _stem_cached(self.stem, folded) in self.stems


@lru_cache(maxsize=50_000)
def _stem_cached(stem: Callable[[str], str], word: str) -> str:
    return stem(word)


def _marked(text: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in spans:
        out.append(html.escape(text[last:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)


def _spans(text: str, matcher: Matcher | None) -> list[tuple[int, int]]:
    if matcher is None:
        return []
    return [m.span() for m in _WORD.finditer(text) if matcher.matches(m.group())]


def highlight(text: str, matcher: Matcher | None) -> str:
    """The whole ``text``, escaped, matched words in ``<mark>``."""
    return _marked(text, _spans(text, matcher))


def snippet(text: str, matcher: Matcher | None, *, size: int = SNIPPET_CHARS) -> str:
    """About ``size`` characters of ``text`` around its first match (its start when
    nothing matches), escaped, matched words in ``<mark>``, cut on word boundaries."""
    head = text[: size * 8]
    spans = _spans(head, matcher)
    start = 0
    if spans and spans[0][0] > size // 3:
        start = head.rfind(" ", 0, spans[0][0] - size // 4) + 1
    end = len(text) if len(text) - start <= size else text.rfind(" ", start, start + size)
    if end <= start:
        end = min(len(text), start + size)
    window = [(s - start, e - start) for s, e in spans if start <= s and e <= end]
    body = _marked(text[start:end], window)
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
