"""Slugs keep every letter of a title, transliterated to ASCII."""

from __future__ import annotations

import pytest

from services.slugs import slugify


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Œuvre æquo", "oeuvre-aequo"),
        ("Démocratie culturelle", "democratie-culturelle"),
        ("Le cœur de Straße", "le-coeur-de-strasse"),
        ("La ﬁn des ﬂux", "la-fin-des-flux"),
        ("L’action : passer à l'acte !", "l-action-passer-a-l-acte"),
        ("La participation des adolescent·e·s", "la-participation-des-adolescent-e-s"),
        ("", "sans-titre"),
        ("!!!", "sans-titre"),
    ],
)
def test_a_title_becomes_an_ascii_slug_that_keeps_its_letters(title, slug):
    assert slugify(title) == slug


def test_a_long_title_is_cut_without_a_trailing_hyphen():
    slug = slugify("Co-construire la politique culturelle avec ses habitants " * 3, max_length=40)
    assert len(slug) <= 40
    assert not slug.endswith("-")
    assert slug.startswith("co-construire-la-politique-culturelle")
