"""The default template renders the sections it declares, in their order, as headings,
items and calls to action: lang="fr", alt texts, inlined CSS, a text version; editors'
items are arranged as they decided; links go to the portal."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from mailer.compose import arrange_sections, render_context
from mailer.render import TemplateInvalid, default_template, render_html, render_text
from services.newsletters.models import SectionKind
from services.newsletters.sections import declared_sections
from services.settings import Settings
from tests.mailer.reading import sections as read_sections

DATA = {
    "theme": {
        "__typename": "Theme",
        "id": "VGhlbWU6MQ==",
        "slug": "la-democratie-culturelle",
        "title": "La démocratie culturelle",
        "introduction": "Premier paragraphe.\n\nSecond paragraphe.",
        "introductory": {"nodes": [{"id": "r1", "title": "Dossier d'introduction"}]},
        "resources": {
            "nodes": [
                {"id": "r1", "title": "Dossier d'introduction"},
                {"id": "r2", "title": "Expérience de Séné", "url": "https://example.org/sene"},
                {"__typename": "Resource", "id": "r3", "slug": "lecture", "title": "Lecture"},
            ]
        },
    },
    "nextTheme": {
        "__typename": "Theme",
        "id": "t2",
        "slug": "sanitaire",
        "title": "Démocratie sanitaire",
        "introduction": "En juillet…",
    },
    "concept": {
        "__typename": "Concept",
        "id": "c1",
        "slug": "arnstein",
        "title": "L'échelle d'Arnstein",
        "summary": "Huit niveaux.",
        "furtherReading": "Pour aller plus loin : l'article d'Arnstein",
    },
    "votingRounds": {
        "nodes": [
            {
                "__typename": "VotingRound",
                "id": "v1",
                "slug": "vote",
                "title": "Votez pour les thématiques",
                "description": "C'est vous qui décidez !",
                "isOpen": True,
                "ranking": [
                    {"rank": 1, "votes": 3, "theme": {"title": "Culture"}},
                    {"rank": 2, "votes": 1, "theme": {"title": "Jeunesse"}},
                    {"rank": 2, "votes": 1, "theme": {"title": "Solidarités"}},
                    {"rank": 4, "votes": 0, "theme": {"title": "Récit"}},
                ],
            }
        ]
    },
    "sharedProjects": {"nodes": [{"id": "p1", "title": "Co-construire", "summary": "…"}]},
    "partnerNews": {"nodes": [{"id": "n1", "title": "Décider Ensemble recrute !"}]},
    "events": {
        "nodes": [
            {
                "__typename": "Event",
                "id": "e1",
                "slug": "cndp",
                "title": "Webinaire CNDP",
                "startsAt": "2021-06-15T09:30:00+00:00",
                "endsAt": "2021-06-15T10:30:00+00:00",
                "formatLabel": "Webinaire",
                "online": True,
            }
        ]
    },
    "items": [{"id": "r9", "title": "Ajout de la rédaction"}],
}
SETTINGS = Settings(portal_url="https://portail.example", public_url="https://tec.example")
ISSUE = SimpleNamespace(
    slug="2021-06",
    title="Juin 2021",
    subject="Juin 2021",
    number=1,
    introduction="Bienvenue !",
    month=dt.date(2021, 6, 1),
)
AS_OF = dt.datetime(2021, 6, 1, 12, tzinfo=dt.UTC)


def _render(layout=None, decisions=()):
    template = default_template()
    context = render_context(
        ISSUE,
        DATA,
        layout or declared_sections(template["sections"]),
        list(decisions),
        settings=SETTINGS,
        as_of=AS_OF,
    )
    return render_html(template["mjml"], context), render_text(template["text"], context)


def _decision(section, node_id, *, position=0, pinned=False, removed=False, pk=1, cta=None):
    return SimpleNamespace(
        section=section,
        node_id=node_id,
        position=position,
        pinned=pinned,
        removed=removed,
        id=pk,
        cta=cta,
    )


def test_default_template_follows_the_seeds_order():
    html, text = _render()
    assert '<html lang="fr"' in html
    assert 'alt="Territoires en Commun"' in html
    assert 'style="' in html  # CSS inlined
    found = read_sections(html)
    assert [s.kind for s in found] == [
        "VIEW_IN_BROWSER",
        "HEADER",
        "INTRODUCTION",
        "THEME_OF_THE_MONTH",
        "INTRODUCTORY_RESOURCE",
        "INSPIRING_PROJECTS",
        "NEXT_THEME",
        "VOTE",
        "CONCEPT",
        "SHARED_PROJECTS",
        "PARTNER_NEWS",
        "AGENDA",
        "FOOTER",
    ]
    by_kind = {s.kind: s for s in found}
    assert by_kind["THEME_OF_THE_MONTH"].headings == ["Thématique du mois"]
    assert by_kind["THEME_OF_THE_MONTH"].items == ["La démocratie culturelle"]
    assert by_kind["INSPIRING_PROJECTS"].items == ["Expérience de Séné", "Lecture"]
    assert by_kind["NEXT_THEME"].ctas == ["J'envoie ma ressource"]
    assert by_kind["VOTE"].ctas == ["Votez pour une thématique"]
    assert "Notre adresse" in by_kind["FOOTER"].text
    assert text.index("THÉMATIQUE DU MOIS") < text.index("EN INTRODUCTION")
    assert text.index("VOTEZ POUR") < text.index("LE CONCEPT DU MOIS") < text.index("À VOS AGENDAS")
    assert "Mardi 15 juin 2021, de 11\u00a0h\u00a030 à 12\u00a0h\u00a030, en ligne" in text


def test_links_go_to_the_portal_or_the_items_own_address():
    html, text = _render()
    assert 'href="https://example.org/sene"' in html  # its own URL
    assert 'href="https://portail.example/ressources/lecture"' in html  # « En savoir plus »
    assert 'href="https://portail.example/ressources/proposer"' in html  # J'envoie ma ressource
    assert 'href="https://portail.example/votes/vote"' in html
    assert 'href="https://portail.example/concepts/arnstein"' in html  # further reading
    assert 'href="https://portail.example/thematiques/la-democratie-culturelle"' in html
    assert 'href="https://tec.example/newsletters/2021-06"' in html  # the gateway's pages
    assert "/graphql" not in html + text
    assert 'href="Pour aller plus loin' not in html


def test_an_item_appears_once_and_editors_decisions_apply():
    spec = default_template()["sections"]
    sections = arrange_sections(spec, DATA, [])
    assert [i["id"] for i in sections["INTRODUCTORY_RESOURCE"]] == ["r1"]
    assert [i["id"] for i in sections["INSPIRING_PROJECTS"]] == ["r2", "r3"]
    decisions = [
        _decision(SectionKind.INSPIRING_PROJECTS, "r3", position=1, pk=1),
        _decision(SectionKind.INSPIRING_PROJECTS, "r9", position=2, pinned=True, pk=2, cta="Lire"),
        _decision(SectionKind.PARTNER_NEWS, "n1", removed=True, pk=3),
    ]
    sections = arrange_sections(spec, DATA, decisions)
    assert [i["id"] for i in sections["INSPIRING_PROJECTS"]] == ["r9", "r3", "r2"]
    assert sections["INSPIRING_PROJECTS"][0]["cta"] == "Lire"
    assert sections["PARTNER_NEWS"] == []


def test_a_placed_item_may_be_in_two_sections_a_found_one_only_once():
    spec = default_template()["sections"]
    placed = [
        _decision(SectionKind.PARTNER_NEWS, "e1", pk=1),
        _decision(SectionKind.AGENDA, "e1", pk=2),
    ]
    data = {**DATA, "items": [DATA["events"]["nodes"][0]]}
    sections = arrange_sections(spec, data, placed)
    assert [i["id"] for i in sections["PARTNER_NEWS"]] == ["e1", "n1"]
    assert [i["id"] for i in sections["AGENDA"]] == ["e1"]
    # Found by the query only: the agenda does not repeat what the news showed.
    found_twice = {**DATA, "partnerNews": {"nodes": [DATA["events"]["nodes"][0]]}}
    sections = arrange_sections(spec, found_twice, [])
    assert [i["id"] for i in sections["PARTNER_NEWS"]] == ["e1"]
    assert sections["AGENDA"] == []


def test_a_curated_section_shows_only_the_placed_items_and_a_limit_caps_the_query():
    spec = declared_sections(default_template()["sections"])
    curated = [
        s
        if s.kind is not SectionKind.INSPIRING_PROJECTS
        else s.__class__(**{**s.__dict__, "curated": True})
        for s in spec
    ]
    sections = arrange_sections(curated, DATA, [_decision(SectionKind.INSPIRING_PROJECTS, "r3")])
    assert [i["id"] for i in sections["INSPIRING_PROJECTS"]] == ["r3"]
    limited = [
        s
        if s.kind is not SectionKind.INSPIRING_PROJECTS
        else s.__class__(**{**s.__dict__, "limit": 1})
        for s in spec
    ]
    assert [i["id"] for i in arrange_sections(limited, DATA, [])["INSPIRING_PROJECTS"]] == ["r2"]


def test_the_older_form_of_sections_still_arranges_every_kind():
    sections = arrange_sections({"AGENDA": "events.nodes"}, DATA, [])
    assert list(sections) == [k.value for k in SectionKind]
    assert [i["id"] for i in sections["AGENDA"]] == ["e1"]


def test_broken_markup_is_refused():
    with pytest.raises(TemplateInvalid):
        render_html("<mjml>{% if %}</mjml>", {})


def test_an_edited_template_renders_its_new_text_and_a_broken_one_is_refused_each_time():
    # Templates are compiled once per text: the same text twice, then an edit of it.
    assert render_text("Bonjour {{ name }}", {"name": "Niort"}) == "Bonjour Niort\n"
    assert render_text("Bonjour {{ name }}", {"name": "Bourges"}) == "Bonjour Bourges\n"
    assert render_text("Au revoir {{ name }}", {"name": "Niort"}) == "Au revoir Niort\n"
    for _ in range(2):
        with pytest.raises(TemplateInvalid):
            render_text("Bonjour {% if %}", {})
