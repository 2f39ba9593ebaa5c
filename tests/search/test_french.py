"""French text rules shared by both engines: folding that keeps letters, inclusive
writing, query words and typo distances."""

from __future__ import annotations

import random

import pytest

from search.french import (
    fold,
    inclusive_bases,
    inclusive_expansion,
    inclusive_forms,
    query_units,
    within_typos,
    words,
)
from search.tantivy_query import analyzer


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Démocratie", "democratie"),
        ("Cœur", "coeur"),
        ("Œuvre æquo", "oeuvre aequo"),
        ("Straße", "strasse"),
        ("ﬁn ﬂux", "fin flux"),
        ("Łódź", "lodz"),
    ],
)
def test_folding_keeps_letters(text, folded):
    assert fold(text) == folded


def test_folding_is_what_the_index_analyzer_makes_of_a_word():
    # Search words are looked up in the index's vocabulary: both sides must agree.
    fold_analyzer = analyzer(stem=False)
    for text in ["Cœur", "Œuvre", "ÆQUO", "Straße", "ﬁnancement", "Élu", "Ça", "naïve"]:
        assert words(text) == fold_analyzer.analyze(text), text


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("adolescent.e.s", {"adolescent", "adolescente", "adolescents", "adolescentes"}),
        ("adolescent·e·s", {"adolescent", "adolescente", "adolescents", "adolescentes"}),
        ("habitant·es", {"habitant", "habitante", "habitants", "habitantes"}),
        ("élu·e·s", {"élu", "élue", "élus", "élues"}),
        ("acteur·rice·s", {"acteur", "actrice", "acteurs", "actrices"}),
        ("citoyen(ne)s", {"citoyen", "citoyenne", "citoyens", "citoyennes"}),
        ("conseiller·ère·s", {"conseiller", "conseillère", "conseillers", "conseillères"}),
        ("sportif·ve·s", {"sportif", "sportive", "sportifs", "sportives"}),
    ],
)
def test_an_inclusive_word_has_its_masculine_feminine_and_plural_forms(word, forms):
    assert set(inclusive_forms(word)) == forms


_BASES = [
    "élu",
    "acteur",
    "chanteur",
    "sportif",
    "conseiller",
    "heureux",
    "citoyen",
    "Œuvrier",
    "habitant",
    "pays",
    "intellectuel",
    "adhérent",
    "directeur",
    "naïf",
    "cadet",
]
_WRITTEN = ["·{e}·s", ".{e}.s", "·{e}s", "({e})s", "·{e}", "({e})"]
_ENDINGS = ["e", "ne", "le", "te", "rice", "euse", "ive", "ve", "ère", "ere", "se"]


def test_every_form_of_an_inclusive_word_leads_back_to_its_masculine_singular():
    # What the Meilisearch adapter's inclusive keys rest on: a document holding any form,
    # written plainly, carries the key of the inclusive word.
    checked = 0
    for base in _BASES:
        for ending in _ENDINGS:
            for written in _WRITTEN:
                forms = inclusive_forms(base + written.format(e=ending))
                for form in forms:
                    assert fold(forms[0]) in inclusive_bases(fold(form)), (base, ending, form)
                    checked += 1
    assert checked > 1500


def test_ordinary_words_and_sentences_are_not_inclusive_words():
    assert inclusive_forms("adolescents") == ()
    assert inclusive_expansion("Voir les communes.Les élus sont là. Fin.") == ""
    assert inclusive_expansion("www.anct.gouv.fr") == ""


def test_a_query_with_an_inclusive_word_accepts_any_of_its_forms():
    assert query_units("les élu·e·s de l'EPCI") == [("elu", "elue", "elus", "elues"), ("epci",)]


def test_typo_distance_counts_a_transposition_as_one_edit():
    assert within_typos("budjet", "budget", 1)
    assert within_typos("partcipation", "participation", 2)
    assert within_typos("particpiation", "participation", 2)
    assert not within_typos("budgetaire", "budget", 2)
    assert not within_typos("vote", "note", 0)


def _reference_osa(a: str, b: str) -> int:
    rows = [list(range(len(b) + 1))] + [[i] + [0] * len(b) for i in range(1, len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, rows[i - 2][j - 2] + 1)
            rows[i][j] = best
    return rows[-1][-1]


def test_typo_distance_agrees_with_the_textbook_definition_on_random_words():
    rng = random.Random(11)
    for _ in range(2000):
        a = "".join(rng.choices("abcd", k=rng.randint(1, 9)))
        b = "".join(rng.choices("abcd", k=rng.randint(1, 9)))
        for budget in (1, 2):
            assert within_typos(a, b, budget) == (_reference_osa(a, b) <= budget), (a, b)
