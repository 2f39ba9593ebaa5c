"""Search benchmark: N synthetic French resources, the embedded engine through the
project's search port and end to end through GraphQL, each against SQLite FTS5 doing
the same query (full text + two filters + four facets) in the same run.

    .venv/bin/python bench/search/run.py                 # 100,000 documents
    .venv/bin/python bench/search/run.py --docs 10000    # quicker
    .venv/bin/python bench/search/run.py --profile       # where GraphQL's time goes

Prints indexing throughput, p50/p95 latencies and the ratios to FTS5; requests per
second under ``--connections`` concurrent callers through the port and through GraphQL
(response cache off: every query is computed) and their ratio, in the same run; the CPU
time per request of each, one request after another (steadier than rates on a shared
machine); and the p50/p95 of ``searchSuggestions`` prefixes through the port.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

# Run as a script (``python bench/search/run.py``): the repository's root, for ``bench``.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

WORDS = [
    "démocratie",
    "participative",
    "citoyenne",
    "concertation",
    "habitants",
    "budget",
    "participatif",
    "conseil",
    "quartier",
    "jeunesse",
    "adolescents",
    "culture",
    "culturelle",
    "santé",
    "sanitaire",
    "écologie",
    "transition",
    "territoire",
    "commune",
    "intercommunalité",
    "département",
    "élus",
    "agents",
    "atelier",
    "débat",
    "public",
    "consultation",
    "numérique",
    "plateforme",
    "coopération",
    "réseau",
    "projet",
    "partagé",
    "évaluation",
    "diagnostic",
    "plan",
    "action",
    "engagement",
    "mobilisation",
    "inclusion",
    "fragilité",
    "solidarité",
    "associations",
    "collectivités",
    "locales",
    "innovation",
    "expérimentation",
    "politique",
    "publique",
    "enquête",
    "guide",
    "méthode",
    "outil",
    "retour",
    "expérience",
    "formation",
    "webinaire",
    "rencontre",
]
KINDS = ["EXPERIENCE", "GUIDE", "TOOLKIT", "SURVEY", "DOSSIER", "WEBINAR", "REPORT", "NEWS"]
AUDIENCES = ["ALL", "LOCAL_AUTHORITIES", "PARTNERS", "CITIZENS"]
QUERIES = [
    "démocratie participative",
    "budget participatif",
    "concertation habitants",
    "jeunesse",
    "transition écologique",
    "participation citoyenne",
    "democratie",
    "conseil de quartier",
    "evaluation",
    "cooperation",
    "culture",
    "particip",
]
KIND_FILTER = ["GUIDE", "EXPERIENCE", "TOOLKIT"]
YEAR_FILTER = [2021, 2022, 2023]
N_THEMES, N_TERRITORIES, N_ORGS = 20, 200, 50


def _series(values: Any, spec: str) -> str:
    """The values, formatted with ``spec``, separated by spaces."""
    return " ".join(format(value, spec) for value in values)


def synthetic(n: int, seed: int = 5) -> Iterator[dict[str, Any]]:
    """Documents as ``search.documents`` builds them, facet labels included (the names
    ``fill_database`` gives the themes, territories and organisations)."""
    rng = random.Random(seed)
    start = dt.datetime(2015, 1, 1, tzinfo=dt.UTC).timestamp()
    span = 10 * 365 * 86_400
    for pk in range(1, n + 1):
        when = int(start + rng.random() * span)
        doc = {
            "id": f"resource-{pk}",
            "type": "resource",
            "pk": pk,
            "status": "PUBLISHED",
            "title": " ".join(rng.choices(WORDS, k=rng.randint(3, 8))).capitalize(),
            "text": " ".join(rng.choices(WORDS, k=rng.randint(40, 90))),
            "names": "",
            "themes": sorted(rng.sample(range(1, N_THEMES + 1), rng.randint(1, 3))),
            "territories": sorted(rng.sample(range(1, N_TERRITORIES + 1), rng.randint(0, 2))),
            "organizations": sorted(rng.sample(range(1, N_ORGS + 1), rng.randint(0, 2))),
            "kind": rng.choice(KINDS),
            "audience": rng.choice(AUDIENCES),
            "format": None,
            "year": dt.datetime.fromtimestamp(when, dt.UTC).year,
            "date": when,
        }
        doc["themes_labels"] = [f"{t}:Thème {t}" for t in doc["themes"]]
        doc["territories_labels"] = [f"{t}:Commune {t}" for t in doc["territories"]]
        doc["organizations_labels"] = [f"{o}:Organisation {o}" for o in doc["organizations"]]
        yield doc


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


# --- SQLite FTS5 baseline --------------------------------------------------------------


def build_fts(path: Path, docs: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE doc (id INTEGER PRIMARY KEY, kind TEXT, year INTEGER, date INTEGER);
        CREATE TABLE doc_theme (doc_id INTEGER, theme_id INTEGER);
        CREATE TABLE doc_territory (doc_id INTEGER, territory_id INTEGER);
        CREATE INDEX doc_theme_doc ON doc_theme (doc_id);
        CREATE INDEX doc_territory_doc ON doc_territory (doc_id);
        CREATE VIRTUAL TABLE fts USING fts5(title, text,
            tokenize = 'unicode61 remove_diacritics 2');
        """
    )
    conn.executemany(
        "INSERT INTO doc VALUES (?, ?, ?, ?)",
        [(d["pk"], d["kind"], d["year"], d["date"]) for d in docs],
    )
    conn.executemany(
        "INSERT INTO doc_theme VALUES (?, ?)",
        [(d["pk"], t) for d in docs for t in d["themes"]],
    )
    conn.executemany(
        "INSERT INTO doc_territory VALUES (?, ?)",
        [(d["pk"], t) for d in docs for t in d["territories"]],
    )
    conn.executemany(
        "INSERT INTO fts (rowid, title, text) VALUES (?, ?, ?)",
        [(d["pk"], d["title"], d["text"]) for d in docs],
    )
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def fts_query(text: str) -> str:
    """The FTS5 version of a query: each word as a prefix of its first 8 letters (FTS5
    has no French stemmer), all words required."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    words = [w for w in folded.replace("'", " ").split() if len(w) > 2]
    return " AND ".join(f'"{w[:8]}"*' for w in words)


def fts_search(conn: sqlite3.Connection, text: str) -> dict[str, Any]:
    match = fts_query(text)
    kinds = ",".join("?" * len(KIND_FILTER))
    years = ",".join("?" * len(YEAR_FILTER))
    base = (
        f"FROM fts JOIN doc ON doc.id = fts.rowid WHERE fts MATCH ? "
        f"AND doc.kind IN ({kinds}) AND doc.year IN ({years})"
    )
    args = [match, *KIND_FILTER, *YEAR_FILTER]
    hits = conn.execute(
        f"SELECT doc.id, highlight(fts, 0, '<mark>', '</mark>'), "
        f"snippet(fts, 1, '<mark>', '</mark>', '…', 30) {base} "
        f"ORDER BY bm25(fts, 3.0, 1.0), doc.date DESC LIMIT 20",
        args,
    ).fetchall()
    total = conn.execute(f"SELECT count(*) {base}", args).fetchone()[0]
    by_theme = base.replace("WHERE", "JOIN doc_theme t ON t.doc_id = doc.id WHERE")
    by_territory = base.replace("WHERE", "JOIN doc_territory t ON t.doc_id = doc.id WHERE")
    facets = {
        "themes": conn.execute(
            f"SELECT t.theme_id, count(*) {by_theme} GROUP BY t.theme_id ORDER BY 2 DESC", args
        ).fetchall(),
        "territories": conn.execute(
            f"SELECT t.territory_id, count(*) {by_territory} "
            "GROUP BY t.territory_id ORDER BY 2 DESC",
            args,
        ).fetchall(),
        "kind": conn.execute(
            f"SELECT doc.kind, count(*) {base} GROUP BY doc.kind", args
        ).fetchall(),
        "year": conn.execute(
            f"SELECT doc.year, count(*) {base} GROUP BY doc.year", args
        ).fetchall(),
    }
    return {"hits": hits, "total": total, "facets": facets}


# --- the project's search port and GraphQL ----------------------------------------------


async def batches_of(docs: list[dict[str, Any]], size: int = 5000) -> AsyncIterator[list[dict]]:
    for start in range(0, len(docs), size):
        yield docs[start : start + size]


async def fill_database(settings: Any, docs: list[dict[str, Any]]) -> None:
    """The rows GraphQL loads the hits and facet labels from (same ids as the index)."""
    from services import db
    from services.content import ContentStatus
    from services.organizations.models import Organization
    from services.resources.models import Resource, ResourceTerritory, ResourceTheme
    from services.territories.models import Territory
    from services.themes.models import Theme

    await db.migrate(settings.database)
    from tortoise import Tortoise

    await Tortoise.init(config=db.tortoise_config(settings.database))
    published = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
    await Theme.bulk_create(
        [
            Theme(id=i, slug=f"theme-{i}", title=f"Thème {i}", published_at=published)
            for i in range(1, N_THEMES + 1)
        ]
    )
    await Territory.bulk_create(
        [
            Territory(id=i, slug=f"territoire-{i}", name=f"Commune {i}", level="COMMUNE")
            for i in range(1, N_TERRITORIES + 1)
        ]
    )
    await Organization.bulk_create(
        [
            Organization(id=i, slug=f"org-{i}", name=f"Organisation {i}")
            for i in range(1, N_ORGS + 1)
        ]
    )
    for start in range(0, len(docs), 5000):
        chunk = docs[start : start + 5000]
        await Resource.bulk_create(
            [
                Resource(
                    id=d["pk"],
                    slug=f"ressource-{d['pk']}",
                    title=d["title"],
                    summary=d["text"][:200],
                    kind=d["kind"],
                    audience=d["audience"],
                    status=ContentStatus.PUBLISHED,
                    published_at=dt.datetime.fromtimestamp(d["date"], dt.UTC),
                )
                for d in chunk
            ]
        )
        await ResourceTheme.bulk_create(
            [ResourceTheme(resource_id=d["pk"], theme_id=t) for d in chunk for t in d["themes"]]
        )
        await ResourceTerritory.bulk_create(
            [
                ResourceTerritory(resource_id=d["pk"], territory_id=t)
                for d in chunk
                for t in d["territories"]
            ]
        )

    # Statistics, as after any bulk load: without them SQLite answers `id IN (…) AND
    # status = …` through the (status, published_at) index, scanning every resource.
    from tortoise import connections

    await connections.get("default").execute_script("ANALYZE")


GRAPHQL = """
query Bench($q: String!) {
  search(query: $q, filter: {kinds: [GUIDE, EXPERIENCE, TOOLKIT], years: [2021, 2022, 2023]},
         facets: [THEME, KIND, TERRITORY, YEAR], first: 20) {
    total processingTimeMs
    hits { titleHighlighted snippet node { ... on Resource { id slug title kindLabel } } }
    facets { facet values { value label count } }
  }
}
"""


async def measure(run: Callable[[str], Any], rounds: int) -> list[float]:
    samples = []
    for i in range(rounds):
        query = QUERIES[i % len(QUERIES)]
        started = time.perf_counter()
        result = run(query)
        if asyncio.iscoroutine(result):
            await result
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def cpu_per_request(run: Callable[[str], Any], rounds: int) -> float:
    """Milliseconds of CPU (every thread of this process, the engine's too) per request,
    one request after another: unlike rates, barely moved by other processes' load."""
    started = time.process_time()
    await measure(run, rounds)
    return (time.process_time() - started) * 1000 / rounds


PREFIXES = ["d", "pa", "par", "parti", "démocratie p", "budget particip", "conseil de q", "cu"]


async def throughput(run: Callable[[str], Any], *, callers: int, seconds: float) -> float:
    """Requests per second with ``callers`` concurrent callers in a loop for ``seconds``."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def caller(offset: int) -> None:
        nonlocal done
        i = offset
        while time.perf_counter() < deadline:
            await run(QUERIES[i % len(QUERIES)])
            done += 1
            i += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(callers)))
    return done / (time.perf_counter() - started)


def asgi_caller(app: Any) -> Callable[[str], Any]:
    """``graphql(query)``: one POST /graphql through the whole ASGI app (middleware,
    guards, execution), as uvicorn hands a request over, without an HTTP client in this
    process — a visitor's browser does that part — so the rate is the server's alone.
    Checks that the answer is a 200 without errors."""
    from bench.asgi import post_graphql

    async def graphql(query: str) -> bytes:
        body = json.dumps({"query": GRAPHQL, "variables": {"q": query}}).encode()
        status, answer = await post_graphql(app, body)
        assert status == 200 and b'"errors"' not in answer, answer[:500]
        return answer

    return graphql


async def main(
    n_docs: int,
    rounds: int,
    *,
    callers: int = 16,
    seconds: float = 3.0,
    alternations: int = 3,
    profile: bool = False,
) -> None:
    from gateway.app import create_app
    from search.port import Facet, SearchFilter, SearchRequest
    from search.tantivy_engine import TantivyEngine
    from services.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="tec-bench-"))
    print(f"{n_docs:,} synthetic resources, {rounds} queries per engine, in {workdir}")
    docs = list(synthetic(n_docs))

    fts_seconds = build_fts(workdir / "fts.sqlite3", docs)
    engine = TantivyEngine(workdir / "index", writer_heap_mb=256)
    await engine.open()
    started = time.perf_counter()
    await engine.rebuild(batches_of(docs))
    index_seconds = time.perf_counter() - started
    print(
        f"indexing: port {n_docs / index_seconds:,.0f} docs/s ({index_seconds:.1f} s), "
        f"FTS5 {n_docs / fts_seconds:,.0f} docs/s ({fts_seconds:.1f} s)"
    )

    request_filter = SearchFilter(kinds=KIND_FILTER, years=YEAR_FILTER)
    facets = [Facet.THEME, Facet.KIND, Facet.TERRITORY, Facet.YEAR]

    async def port_search(query: str) -> Any:
        return await engine.search(
            SearchRequest(query=query, filter=request_filter, facets=facets, limit=20)
        )

    conn = sqlite3.connect(workdir / "fts.sqlite3")
    await measure(port_search, 20)  # warm-up
    port = await measure(port_search, rounds)
    await measure(lambda q: fts_search(conn, q), 5)
    fts = await measure(lambda q: fts_search(conn, q), rounds)

    # No rate limit, no response cache: every query is computed.
    settings = Settings(
        database_url=f"sqlite://{workdir / 'tec.sqlite3'}",
        rate_limit_anonymous=1_000_000_000,
        cache_enabled=False,
    )
    await fill_database(settings, docs)
    app = create_app(settings)
    app.state.runtime.search = engine
    graphql = asgi_caller(app)
    await measure(graphql, 20)
    end_to_end = await measure(graphql, rounds)
    port_rates, graphql_rates = [], []
    port_cpu, graphql_cpu = [], []
    for _ in range(alternations):
        port_rates.append(await throughput(port_search, callers=callers, seconds=seconds))
        graphql_rates.append(await throughput(graphql, callers=callers, seconds=seconds))
        port_cpu.append(await cpu_per_request(port_search, rounds))
        graphql_cpu.append(await cpu_per_request(graphql, rounds))
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="enabled")
        with profiler:
            await measure(graphql, rounds)
        print(profiler.output_text(unicode=True, color=False, show_all=False))

    suggestions: list[float] = []
    for prefix in PREFIXES:
        await engine.suggest(prefix, 8)  # warm-up: each prefix's expansion is cached
    for i in range(rounds * 5):
        prefix = PREFIXES[i % len(PREFIXES)]
        started = time.perf_counter()
        await engine.suggest(prefix, 8)
        suggestions.append((time.perf_counter() - started) * 1000)
    await engine.close()
    from tortoise import connections

    await connections.close_all()

    p50_port, p95_port = percentiles(port)
    p50_gql, p95_gql = percentiles(end_to_end)
    p50_fts, p95_fts = percentiles(fts)
    print("query + 2 filters + 4 facets, p50 / p95 (ms):")
    print(f"  search port (tantivy) {p50_port:7.2f} / {p95_port:7.2f}")
    print(f"  GraphQL end to end    {p50_gql:7.2f} / {p95_gql:7.2f}")
    print(f"  SQLite FTS5 + GROUP BY{p50_fts:7.2f} / {p95_fts:7.2f}")
    print(
        f"ratios to FTS5 (p95): port {p95_port / p95_fts:.3f}, GraphQL {p95_gql / p95_fts:.3f}; "
        f"indexing {fts_seconds / index_seconds:.2f}× FTS5's throughput"
    )
    ratios = [g / p for p, g in zip(port_rates, graphql_rates, strict=True)]
    print(
        f"search, {callers} concurrent callers, {alternations} alternating rounds of "
        f"{seconds:g} s: port {_series(port_rates, ',.0f')} req/s, GraphQL "
        f"{_series(graphql_rates, ',.0f')} req/s; ratio GraphQL / port "
        f"{_series(ratios, '.2f')} (median {statistics.median(ratios):.2f})"
    )
    cpu_ratios = [p / g for p, g in zip(port_cpu, graphql_cpu, strict=True)]
    print(
        "CPU time per search, one caller after another (every thread of the process): port "
        f"{_series(port_cpu, '.2f')} ms, GraphQL {_series(graphql_cpu, '.2f')} ms; "
        f"ratio port / GraphQL {_series(cpu_ratios, '.2f')} "
        f"(median {statistics.median(cpu_ratios):.2f}); load average "
        f"{_series(os.getloadavg(), '.1f')}"
    )
    p50_suggest, p95_suggest = percentiles(suggestions)
    print(f"searchSuggestions (port), p50 / p95 (ms): {p50_suggest:.2f} / {p95_suggest:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000, help="synthetic resources")
    parser.add_argument("--rounds", type=int, default=200, help="queries per engine")
    parser.add_argument("--connections", type=int, default=16, help="concurrent callers")
    parser.add_argument("--seconds", type=float, default=2.0, help="per throughput run")
    parser.add_argument(
        "--alternations", type=int, default=3, help="port then GraphQL rate runs, in turn"
    )
    parser.add_argument("--profile", action="store_true", help="pyinstrument over GraphQL")
    options = parser.parse_args()
    asyncio.run(
        main(
            options.docs,
            options.rounds,
            callers=options.connections,
            seconds=options.seconds,
            alternations=options.alternations,
            profile=options.profile,
        )
    )
