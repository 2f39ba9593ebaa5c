"""The words an embedded index holds, so that typo and prefix expansions are computed here.

tantivy's fuzzy and prefix queries read the posting list of every term they expand to
into a bitset, and those terms include the query word itself and its inflections, which
the stem clauses already match at a higher level: on a large index each query word's
postings were read two or three times. Knowing the indexed words, the engine expands a
word itself and asks tantivy only for the terms that add matches (usually none).

Each generation directory holds ``vocabulary.txt``, one folded term a line. The writer
appends the new terms of a batch *before* committing it (a term whose documents were
deleted stays: the list is a superset, which costs nothing), every process reads what was
appended since its last look (one ``stat`` per search), and a generation without the file
(built before it existed) is given one by the first writer that opens it.
"""

from __future__ import annotations

import bisect
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

FILE_NAME = "vocabulary.txt"
_CACHE_SIZE = 4096
_MEMO_SIZE = 200_000


class Vocabulary:
    """A set of folded terms that answers « which terms start with … » and « which terms
    are within n typos of … » (Damerau distance with adjacent transpositions counting one,
    tantivy's ``fuzzy_term_query`` with ``transposition_cost_one``)."""

    def __init__(self, terms: Iterable[str] = ()) -> None:
        self._terms: set[str] = set()
        self._sorted: list[str] = []
        self._unsorted: list[str] = []
        self._by_first: dict[tuple[int, str], list[str]] = {}
        self._by_last: dict[tuple[int, str], list[str]] = {}
        self._by_length: dict[int, list[str]] = {}
        self._joined: dict[int, str] = {}
        self._typos: dict[tuple[str, int], tuple[str, ...]] = {}
        self._lock = threading.Lock()  # the writer adds while searches read
        self.add(terms)

    def __len__(self) -> int:
        return len(self._terms)

    def __contains__(self, term: object) -> bool:
        return term in self._terms

    def add(self, terms: Iterable[str]) -> list[str]:
        """Add ``terms``; returns those that were not known."""
        with self._lock:
            return self._add(terms)

    def _add(self, terms: Iterable[str]) -> list[str]:
        new = [t for t in dict.fromkeys(terms) if t and t not in self._terms]
        if not new:
            return new
        self._terms.update(new)
        self._unsorted += new
        for term in new:
            size = len(term)
            self._by_first.setdefault((size, term[0]), []).append(term)
            self._by_last.setdefault((size, term[-1]), []).append(term)
            self._by_length.setdefault(size, []).append(term)
            self._joined.pop(size, None)
        self._typos.clear()
        return new

    def with_prefix(self, prefix: str) -> list[str]:
        """Every term starting with ``prefix`` (``prefix`` itself included)."""
        with self._lock:
            if self._unsorted:
                self._sorted += self._unsorted
                self._sorted.sort()
                self._unsorted = []
            ordered = self._sorted
            start = end = bisect.bisect_left(ordered, prefix)
            while end < len(ordered) and ordered[end].startswith(prefix):
                end += 1
            return ordered[start:end]

    def within_typos(self, word: str, budget: int) -> tuple[str, ...]:
        """Every term at most ``budget`` (1 or 2) edits from ``word`` (``word`` included)."""
        key = (word, budget)
        with self._lock:
            found = self._typos.get(key)
            if found is None:
                if len(self._typos) >= _CACHE_SIZE:
                    self._typos.clear()
                found = self._typos[key] = self._search_typos(word, budget)
            return found

    def _search_typos(self, word: str, budget: int) -> tuple[str, ...]:
        # Candidates without scanning everything: a term one edit away keeps the word's
        # first or last letter (one edit cannot touch both ends of a word of 3+ letters);
        # two edits away, it keeps one of them or both edits are at the ends and the word
        # minus two letters at each end is inside it.
        if len(word) < 3 or budget not in (1, 2):
            raise ValueError("typos are counted on words of 3+ letters, budget 1 or 2")
        candidates: set[str] = set()
        middle = word[2:-2]
        for size in range(len(word) - budget, len(word) + budget + 1):
            candidates.update(self._by_first.get((size, word[0]), ()))
            candidates.update(self._by_last.get((size, word[-1]), ()))
            if budget == 2:
                candidates.update(self._containing(size, middle))
        matches = process.extract(
            word, candidates, scorer=OSA.distance, score_cutoff=budget, limit=None
        )
        return tuple(sorted(match[0] for match in matches))

    def _containing(self, size: int, part: str) -> list[str]:
        if not part:
            return self._by_length.get(size, [])
        joined = self._joined.get(size)
        if joined is None:
            joined = self._joined[size] = "\n".join(self._by_length.get(size, ())) + "\n"
        found, position = [], joined.find(part)
        while position >= 0:
            start = joined.rfind("\n", 0, position) + 1
            end = joined.index("\n", position)
            found.append(joined[start:end])
            position = joined.find(part, end + 1)
        return found


class VocabularyFile:
    """``vocabulary.txt`` of one generation, followed incrementally (see the module
    docstring). ``vocabulary`` is None while the generation has no such file."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        self.vocabulary: Vocabulary | None = None
        self._inode: int | None = None
        self._offset = 0

    def refresh(self) -> Vocabulary | None:
        """Read what was appended since the last call (one ``stat`` when nothing was)."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            self.vocabulary, self._inode, self._offset = None, None, 0
            return None
        if info.st_ino == self._inode and info.st_size == self._offset:
            return self.vocabulary
        with self.path.open("rb") as file:
            opened = os.fstat(file.fileno())
            if opened.st_ino != self._inode or opened.st_size < self._offset:
                self.vocabulary, self._inode, self._offset = Vocabulary(), opened.st_ino, 0
            file.seek(self._offset)
            data = file.read(opened.st_size - self._offset)
        complete = data.rfind(b"\n") + 1  # a line being appended is read next time
        assert self.vocabulary is not None
        self.vocabulary.add(data[:complete].decode("utf-8").splitlines())
        self._offset += complete
        return self.vocabulary

    def append(self, terms: Iterable[str]) -> None:
        text = "".join(f"{term}\n" for term in terms)
        if text:
            with self.path.open("a", encoding="utf-8") as file:
                file.write(text)
                file.flush()

    def create(self, terms: Iterable[str]) -> None:
        """Write the whole file at once (atomically replaces an older one)."""
        temporary = self.path.with_name(f".{FILE_NAME}.{os.getpid()}")
        temporary.write_text("".join(f"{term}\n" for term in terms), encoding="utf-8")
        os.replace(temporary, self.path)
        self.refresh()


class TermCollector:
    """The folded terms of documents' texts, as the index's fold analyzer makes them.

    Texts are split on white space (never part of a token), and each distinct chunk is
    analysed once and remembered: a batch costs a ``split`` per text and a few look-ups.
    """

    def __init__(self, analyze: Callable[[str], list[str]]) -> None:
        self._analyze = analyze
        self._memo: dict[str, list[str]] = {}

    def terms(self, texts: Iterable[str]) -> set[str]:
        chunks: set[str] = set()
        for text in texts:
            if text:
                chunks.update(text.split())
        if len(self._memo) > _MEMO_SIZE:
            self._memo.clear()
        found: set[str] = set()
        memo, analyze = self._memo, self._analyze
        for chunk in chunks:
            terms = memo.get(chunk)
            if terms is None:
                terms = memo[chunk] = analyze(chunk)
            found.update(terms)
        return found
