# ruff: noqa: E501 — the table of queries keeps one case a line
"""French relevance over the demo data: what a visitor types, and the title they expect
among the first three hits. Reports hit@3 and MRR; fails under hit@3 0.9.

Runs on the embedded engine always, and on Meilisearch too when ``TEC_MEILI_URL`` is set
(the demo documents are indexed into a throwaway index)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from search.documents import all_documents
from search.port import SearchRequest
from tests.search.conftest import now

# (query, expected title) — the category is for reading the report.
CASES: list[tuple[str, str, str]] = [
    # typos
    ("typo", "democratie culturelel", "La démocratie culturelle"),
    ("typo", "participaton citoyenne adolescents", "La participation citoyenne des adolescent.e.s"),
    ("typo", "precarite alimentiare", "Lutter contre la précarité alimentaire avec les habitants"),
    ("typo", "Arsntein", "L'échelle de participation d'Arnstein"),
    ("typo", "cooperaton", "La coopération"),
    (
        "typo",
        "solidarites de proximite en temps de crsie",
        "Organiser les solidarités de proximité en temps de crise",
    ),
    ("typo", "budjet participatif", 'Webinaire "Budget Participatif"'),
    (
        "typo",
        "urbanisme culturell",
        "Focus sur l'urbanisme culturel, où comment penser l'aménagement avec les sensibilités culturelles des habitants ?",
    ),
    # missing accents
    (
        "accents",
        "democratie sanitaire",
        "Démocratie sanitaire et nouvelles coopérations territoriales",
    ),
    ("accents", "recit", "Le récit"),
    ("accents", "echelle de participation", "L'échelle de participation d'Arnstein"),
    ("accents", "evaluer les demarches", "Évaluer les démarches de participation citoyenne"),
    (
        "accents",
        "l'ecole du dehors",
        "\"L'école du dehors\" à Bagneux : co-construction d'un lycée ouvert sur l'environnement par ses futurs élèves",
    ),
    ("accents", "ethique publique", "Observatoire de l'éthique publique"),
    ("accents", "precarite", "Lutter contre la précarité alimentaire avec les habitants"),
    ("accents", "cooperation", "La coopération"),
    # plurals and feminines
    (
        "forms",
        "démarches participatives",
        "Mettre en place une démarche participative : les bonnes questions à se poser",
    ),
    (
        "forms",
        "chantier participatif",
        "Quand les chantiers participatifs redessinent l'espace public",
    ),
    (
        "forms",
        "rencontre européenne participation",
        "Les Rencontres européennes de la Participation",
    ),
    ("forms", "solidarité locale", "Association et solidarité locale"),
    ("forms", "élue locale", "Élu·es Locales"),
    ("forms", "conseil de quartier", "La boîte à outils des Conseils de Quartier"),
    (
        "forms",
        "trophée participation",
        "La 6ème édition des Trophées de la participation et de la concertation lancée : les candidatures sont ouvertes !",
    ),
    ("forms", "commune bretonne", "Des démarches participatives de communes bretonnes"),
    # inclusive forms
    ("inclusive", "adolescents", "La participation citoyenne des adolescent.e.s"),
    ("inclusive", "adolescentes", "La participation citoyenne des adolescent.e.s"),
    ("inclusive", "adolescent·e·s", "La participation citoyenne des adolescent.e.s"),
    ("inclusive", "élus locaux", "Élu·es Locales"),
    ("inclusive", "élu·e·s locales", "Élu·es Locales"),
    ("inclusive", "élues", "Élu·es Locales"),
    # prefixes as typed
    ("prefix", "la participation en periode de cri", "La participation en période de crise"),
    ("prefix", "adoles", "La participation citoyenne des adolescent.e.s"),
    ("prefix", "démocratie cult", "La démocratie culturelle"),
    ("prefix", "précarité alim", "Lutter contre la précarité alimentaire avec les habitants"),
    ("prefix", "co-constr", "Co-construire la politique culturelle avec ses habitants"),
    ("prefix", "Arnst", "L'échelle de participation d'Arnstein"),
    ("prefix", "webinaire budget particip", 'Webinaire "Budget Participatif"'),
    # synonyms
    ("synonym", "ANCT", "Agence nationale de la cohésion des territoires (ANCT)"),
    (
        "synonym",
        "agence nationale de la cohésion des territoires",
        "Agence nationale de la cohésion des territoires (ANCT)",
    ),
    ("synonym", "CNDP", "Webinaire de la Commission Nationale du Débat Public (CNDP)"),
    (
        "synonym",
        "commission nationale du débat public",
        "Commission Nationale du Débat Public (CNDP)",
    ),
    ("synonym", "ados", "La participation citoyenne des adolescent.e.s"),
    # place names
    ("place", "Séné", "La commune de Séné, précurseur de la démocratie culturelle"),
    ("place", "Grenoble", 'Plateforme d\'entraide "Voisins Voisines" de Grenoble'),
    (
        "place",
        "Haute-Vienne",
        "En Haute-Vienne, la lecture citoyenne vecteur de lien intergénérationnel",
    ),
    ("place", "Montpellier", "Expérimentation d'une caisse alimentaire commune à Montpellier"),
    (
        "place",
        "Bagneux",
        "\"L'école du dehors\" à Bagneux : co-construction d'un lycée ouvert sur l'environnement par ses futurs élèves",
    ),
    (
        "place",
        "Lens numérique",
        "Les acteurs du numérique d'intérêt général ont rendez-vous à Lens",
    ),
    ("place", "Guise", 'Festival "Faire autrement - Sur les chemins de l\'utopie"'),
    ("place", "Plouguerneau", "Journée de rencontre sur le thème de la participation citoyenne"),
    # acronyms
    ("acronym", "ICPC", "Institut de la Concertation et de la Participation Citoyenne (ICPC)"),
    ("acronym", "OIDP", "La conférence annuelle de l'OIDP"),
    ("acronym", "OGP", "Open Government Partnership (OGP)"),
    ("acronym", "ANSA", "Agence Nouvelle des Solidarités Actives (ANSA)"),
    ("acronym", "DITP", "Direction interministérielle de la transformation publique (DITP)"),
    # multi-word
    (
        "multi",
        "mettre en place une démarche participative",
        "Mettre en place une démarche participative : les bonnes questions à se poser",
    ),
    ("multi", "le passage à l'action", "Le passage à l'action"),
    ("multi", "associer la jeunesse aux projets", "Associer la jeunesse aux projets du territoire"),
    ("multi", "mettre en récit les transitions", "Mettre en récit les transitions du territoire"),
    (
        "multi",
        "réserve citoyenne crise sanitaire",
        "Une réserve citoyenne pour faire face à la crise sanitaire",
    ),
    (
        "multi",
        "jeu pour convaincre les non-convaincus",
        "Un jeu pour convaincre les non-convaincus de la participation citoyenne",
    ),
    (
        "multi",
        "démocratie ouverte qu'est-ce que c'est",
        "Une \"démocratie ouverte\", qu'est-ce que c'est ?",
    ),
    ("multi", "salon des maires", "Le Salon des Maires"),
    (
        "multi",
        "caisse alimentaire commune",
        "Expérimentation d'une caisse alimentaire commune à Montpellier",
    ),
]


async def _meilisearch() -> Any:
    from search.meilisearch_engine import MeilisearchEngine

    engine = MeilisearchEngine(
        os.environ["TEC_MEILI_URL"],
        api_key=os.environ.get("TEC_MEILI_API_KEY", ""),
        index_uid=f"tec_relevance_{uuid.uuid4().hex[:8]}",
    )
    await engine.open()
    async for batch in all_documents(now=now()):
        await engine.upsert(batch)
    return engine


@pytest.fixture(params=["embedded", "meilisearch"])
async def relevance_engine(request: Any, engine: Any) -> AsyncIterator[Any]:
    if request.param == "embedded":
        yield engine
        return
    if not os.environ.get("TEC_MEILI_URL"):
        pytest.skip("Meilisearch relevance skipped: TEC_MEILI_URL is not set")
    built = await _meilisearch()
    yield built
    await built._require().delete_index_if_exists(built.index_uid)
    await built.close()


async def test_french_queries_find_what_a_visitor_expects(relevance_engine):
    assert len(CASES) >= 60
    ranks: list[int | None] = []
    misses: list[str] = []
    for category, query, expected in CASES:
        result = await relevance_engine.search(SearchRequest(query=query, limit=10))
        titles = [_plain(h.title_html) for h in result.hits]
        rank = titles.index(expected) + 1 if expected in titles else None
        ranks.append(rank)
        if rank is None or rank > 3:
            misses.append(f"{category}: {query!r} → {expected!r} at {rank}; got {titles[:3]}")
    hit3 = sum(1 for r in ranks if r is not None and r <= 3) / len(ranks)
    mrr = sum(1 / r for r in ranks if r is not None) / len(ranks)
    report = f"hit@3 {hit3:.3f}, MRR {mrr:.3f} over {len(ranks)} queries"
    print(report, *misses, sep="\n")
    assert hit3 >= 0.9, "\n".join([report, *misses])


def _plain(marked: str) -> str:
    import html

    return html.unescape(marked.replace("<mark>", "").replace("</mark>", ""))
