"""The default template renders the seeds' structure: sections in order, lang="fr", alt
texts, inlined CSS, a text version; editors' items are arranged as they decided."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mailer.compose import arrange_sections
from mailer.render import TemplateInvalid, default_template, render_html, render_text
from services.newsletters.models import SectionKind

DATA = {
    "theme": {
        "id": "VGhlbWU6MQ==",
        "title": "La démocratie culturelle",
        "introduction": "Premier paragraphe.\n\nSecond paragraphe.",
        "introductory": {"nodes": [{"id": "r1", "title": "Dossier d'introduction"}]},
        "resources": {
            "nodes": [
                {"id": "r1", "title": "Dossier d'introduction"},
                {"id": "r2", "title": "Expérience de Séné", "url": "https://example.org/sene"},
                {"id": "r3", "title": "Lecture citoyenne"},
            ]
        },
    },
    "nextTheme": {"id": "t2", "title": "Démocratie sanitaire", "introduction": "En juillet…"},
    "concept": {"id": "c1", "title": "L'échelle d'Arnstein", "summary": "Huit niveaux."},
    "votingRounds": {
        "nodes": [
            {
                "id": "v1",
                "title": "Votez pour les thématiques",
                "description": "C'est vous qui décidez !",
                "isOpen": True,
                "ranking": [{"rank": 1, "votes": 3, "theme": {"title": "Culture"}}],
            }
        ]
    },
    "sharedProjects": {"nodes": [{"id": "p1", "title": "Co-construire", "summary": "…"}]},
    "partnerNews": {"nodes": [{"id": "n1", "title": "Décider Ensemble recrute !"}]},
    "events": {
        "nodes": [
            {
                "id": "e1",
                "title": "Webinaire CNDP",
                "startsAt": "2021-06-15T09:30:00+00:00",
                "formatLabel": "Webinaire",
                "online": True,
            }
        ]
    },
    "items": [{"id": "r9", "title": "Ajout de la rédaction"}],
}


def _context(sections):
    return {
        "issue": {
            "title": "Juin 2021",
            "subject": "Juin 2021",
            "introduction": "Bienvenue !",
            "licence": "CC BY-SA",
            "preview": "x",
        },
        "data": DATA,
        "sections": sections,
        "links": {
            k: f"https://tec.example/{k}"
            for k in ("view_in_browser", "home", "logo", "archive", "contribute", "vote", "contact")
        },
        "recipient": {
            "greeting": "Bonjour,",
            "unsubscribe_url": "https://u",
            "preferences_url": "https://p",
        },
    }


def _decision(section, node_id, *, position=0, pinned=False, removed=False, pk=1):
    return SimpleNamespace(
        section=section, node_id=node_id, position=position, pinned=pinned, removed=removed, id=pk
    )


def test_default_template_follows_the_seeds_order():
    template = default_template()
    sections = arrange_sections(template["sections"], DATA, [])
    html = render_html(template["mjml"], _context(sections))
    assert '<html lang="fr"' in html
    assert 'alt="Territoires en Commun"' in html
    assert 'style="' in html  # CSS inlined
    expected = [
        "Voir cette newsletter dans votre navigateur",
        "Bienvenue !",
        "Thématique du mois : La démocratie culturelle",
        "Projets démocratiques et expériences territoriales",
        "Le concept du mois",
        "Contribuez à la prochaine thématique",
        "Votez pour les thématiques des projets partagés",
        "Aller plus loin : les projets partagés",
        "Actualités de l'écosystème",
        "À vos agendas !",
        "Contactez-nous",
        "Se désabonner",
    ]
    positions = [html.find(marker) for marker in expected]
    assert -1 not in positions, dict(zip(expected, positions, strict=True))
    assert positions == sorted(positions)
    text = render_text(template["text"], _context(sections))
    assert "mardi 15 juin 2021, 11 h 30 — Webinaire CNDP" in text
    assert text.index("THÉMATIQUE DU MOIS") < text.index("À VOS AGENDAS")


def test_an_item_appears_once_and_editors_decisions_apply():
    spec = default_template()["sections"]
    sections = arrange_sections(spec, DATA, [])
    assert [i["id"] for i in sections["THEME_OF_THE_MONTH"]] == ["r1"]
    assert [i["id"] for i in sections["INSPIRING_PROJECTS"]] == ["r2", "r3"]
    decisions = [
        _decision(SectionKind.INSPIRING_PROJECTS, "r3", position=1, pk=1),
        _decision(SectionKind.INSPIRING_PROJECTS, "r9", position=2, pinned=True, pk=2),
        _decision(SectionKind.PARTNER_NEWS, "n1", removed=True, pk=3),
    ]
    sections = arrange_sections(spec, DATA, decisions)
    assert [i["id"] for i in sections["INSPIRING_PROJECTS"]] == ["r9", "r3", "r2"]
    assert sections["PARTNER_NEWS"] == []


def test_broken_markup_is_refused():
    with pytest.raises(TemplateInvalid):
        render_html("<mjml>{% if %}</mjml>", {})
