"""CPU per request of the paths the compat speed-ups serve, with each of them and without.

    .venv/bin/python -m bench.compat_paths postgres://…/bench
    .venv/bin/python -m bench.compat_paths sqlite://var/bench/bench.sqlite3 --requests 100

The database must hold the benchmark's dataset (``python -m bench.dataset``). The app runs
in this process with the response cache off (read compiler on, its default); requests go
through its ASGI interface one after the other, so each figure is the app's own CPU per
request (``resource.getrusage``), database backends left out. Configurations:

- ``all``: as deployed;
- ``no compiled executor``: ``TEC_GRAPHQL_COMPILED_EXECUTION`` off (graphql-core runs what
  the read compiler leaves);
- ``no row builder``: rows made into models by Tortoise itself (``Model._init_from_db``)
  instead of ``compat_tortoise.model_builder``, wherever the services build models.

Each query is measured in ``--rounds`` rounds, the configurations alternating within a
round (same process, back to back); the best round of each is kept: the machine is
shared. Each line also says which share the read compiler answered (the rest: the
executor) and checks that the responses of
the three configurations are equal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import resource
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.queries import SEARCH, SEARCH_VARIABLES

EDITOR = "bench-editor@bench.test"
PARTNER = "bench-partner@bench.test"
QUERIES: dict[str, tuple[str, str, dict[str, Any]]] = {
    # name: (who, document, variables)
    "20 resources + rejectionReason, editor": (
        "editor",
        "{ resources(first: 20) { nodes { id slug title themes { title } "
        "organizations { name } rejectionReason } } }",
        {},
    ),
    "20 resources + rejectionReason, partner": (
        "partner",
        "{ resources(first: 20) { nodes { id slug title themes { title } "
        "organizations { name } rejectionReason } } }",
        {},
    ),
    "themes(first: 20)": (
        "anonymous",
        "{ themes(first: 20) { totalCount nodes { id slug title month isVoteCandidate } "
        "pageInfo { hasNextPage endCursor } } }",
        {},
    ),
    "resources(first: 100) + rejectionReason, editor": (
        "editor",
        "{ resources(first: 100) { nodes { id slug title publishedAt rejectionReason } } }",
        {},
    ),
    "node(id:) of a resource": (
        "anonymous",
        "query($id: ID!) { node(id: $id) { id ... on Resource { slug title kind "
        "themes { title } } } }",
        {"id": None},  # the first resource's, filled in
    ),
    "currentTheme": ("anonymous", "{ currentTheme { slug title month } }", {}),
    "search (10 hits, typenames)": ("anonymous", SEARCH, SEARCH_VARIABLES),
    "search (20 hits with their resource)": (
        "anonymous",
        "query($q: String!) { search(query: $q, first: 20) { total hits { cursor "
        "titleHighlighted snippet node { __typename ... on Resource { id slug title kind "
        "kindLabel publishedAt themes { title } } } } } }",
        SEARCH_VARIABLES,
    ),
}


@contextlib.contextmanager
def tortoise_rows() -> Iterator[None]:
    """Models built from rows by Tortoise itself, wherever the services use the builder."""
    from services import links, pagination, statements
    from services.resources import service as resources

    modules = (links, pagination, statements, resources)
    kept = [module.model_builder for module in modules]

    def by_tortoise(model: Any) -> Any:
        return lambda row: model._init_from_db(**row)

    for module in modules:
        module.model_builder = by_tortoise
    try:
        yield
    finally:
        for module, builder in zip(modules, kept, strict=True):
            module.model_builder = builder


async def _token(email: str, role: str, organization: str | None = None) -> str:
    from services.accounts import service as accounts
    from services.accounts.models import Account

    account = await Account.filter(email=email).first()
    if account is None:
        account = await accounts.create_account(
            email,
            password="mot de passe du banc d'essai",
            role=role,
            organization_slug=organization,
        )
    return await accounts.issue_token(account)


async def _measure(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str], requests: int
) -> tuple[float, str]:
    """``(app CPU ms per request, response text)`` after a warm-up."""
    for _ in range(10):  # plans, kept statements, connections
        response = await client.post("/graphql", json=body, headers=headers)
        assert response.status_code == 200 and '"errors"' not in response.text, response.text
    usage = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(requests):
        await client.post("/graphql", json=body, headers=headers)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return cpu / requests * 1000, response.text


def _compiled(app: Any) -> float:
    """How many queries the read compiler answered in ``app`` so far."""
    registry = app.state.metrics.registry
    labels = {"path": "compiled", "reason": ""}
    return registry.get_sample_value("tec_read_compiler_queries_total", labels) or 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="measure the queries whose name contains this")
    args = parser.parse_args()
    from tortoise import Tortoise

    from gateway.app import create_app
    from search.documents import all_documents
    from search.tantivy_engine import TantivyEngine
    from services import db
    from services.organizations.models import Organization
    from services.resources.models import Resource
    from services.settings import Settings

    settings = Settings(
        database_url=args.url,
        cache_enabled=False,
        rate_limit_anonymous=10**9,
        rate_limit_account=10**9,
        log_level="warning",
    )
    await Tortoise.init(config=db.tortoise_config(settings.database))
    engine = TantivyEngine(Path(tempfile.mkdtemp(prefix="tec-compat-paths-")) / "index")
    await engine.open()
    await engine.rebuild(all_documents(now=dt.datetime.now(dt.UTC)))
    apps = {
        "all": create_app(settings),
        "no compiled executor": create_app(settings.replace(compiled_execution=False)),
    }
    apps["no row builder"] = apps["all"]
    for app in apps.values():
        app.state.runtime.search = engine
    organization = await Organization.all().order_by("id").first()
    assert organization is not None
    headers = {
        "anonymous": {},
        "editor": {"Authorization": f"Bearer {await _token(EDITOR, 'EDITOR')}"},
        "partner": {
            "Authorization": "Bearer "
            + await _token(PARTNER, "PARTNER", organization=organization.slug)
        },
    }
    first = await Resource.filter(status="PUBLISHED").order_by("id").first()
    assert first is not None
    print(f"{args.url}: {await Resource.all().count()} resources; app CPU ms per request")
    for name, (who, query, variables) in QUERIES.items():
        if args.only and args.only not in name:
            continue
        if "id" in variables:
            from schema.relay import to_global_id

            variables = {"id": to_global_id("Resource", first.id)}
        body = {"query": query, "variables": variables}
        best: dict[str, float] = {}
        answers: dict[str, str] = {}
        compiled = 0.0
        for _ in range(args.rounds):
            for label, app in apps.items():
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                    rows = (
                        tortoise_rows() if label == "no row builder" else contextlib.nullcontext()
                    )
                    before = _compiled(app)
                    with rows:
                        cpu, answers[label] = await _measure(
                            client, body, headers[who], args.requests
                        )
                    if label == "all":
                        compiled = (_compiled(app) - before) / (args.requests + 10)
                best[label] = min(cpu, best.get(label, cpu))
        assert len(set(answers.values())) == 1, f"{name}: the configurations answer differently"
        figures = ", ".join(f"{label} {ms:5.2f}" for label, ms in best.items())
        print(f"{name:48} [compiled {compiled:4.0%}] {figures}", flush=True)
    await engine.close()
    await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
