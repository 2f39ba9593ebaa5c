"""Run in a process of its own (Tortoise's state is global): a database with the throwaway
content type, then everything it gets from the registries. Prints a JSON report."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys

from tortoise import Tortoise, connections


async def main(path: str) -> dict:
    from services import db
    from services.settings import Settings

    settings = Settings(database_url=f"sqlite://{path}")
    config = db.tortoise_config(settings.database)
    config["apps"]["models"]["models"].append("tests.registry.gadgets")
    await Tortoise.init(config=config)
    await Tortoise.generate_schemas()
    try:
        return await _exercise(settings)
    finally:
        await connections.close_all()


async def _exercise(settings) -> dict:
    from schema import build_schema
    from schema.context import Context
    from schema.relay import to_global_id
    from search.documents import load_documents
    from services.demo.loader import load_demo
    from services.editing import create_content
    from services.policy import policy_table
    from services.viewer import ANONYMOUS, Role, Viewer
    from tests.registry.gadgets import GADGET

    editor = Viewer(role=Role.EDITOR)
    report: dict = {}
    report["policy"] = sorted(op for op in policy_table() if op.startswith("gadget."))
    from services.webhooks.endpoints import EndpointDraft, create_endpoint
    from services.webhooks.events import event_types
    from services.webhooks.models import WebhookEvent

    report["webhook_events"] = sorted(e for e in event_types() if e.startswith("gadget."))
    await create_endpoint(
        Viewer(role=Role.ADMIN),
        EndpointDraft(url="https://partner.example/hooks", events=["gadget.published"]),
        allow_private=False,
    )
    gadget = await create_content(editor, GADGET, {"title": "Boussole", "colour": "bleu"})
    report["draft"] = {"status": gadget.status.value, "slug": gadget.slug}
    outcomes: list[list[str]] = []
    schema = build_schema(
        settings, read_compiler_outcome=lambda path, why: outcomes.append([path, why])
    )
    gid = to_global_id("Gadget", gadget.id)
    report["publish_id"] = gid

    async def run(document: str, viewer: Viewer, **variables) -> dict:
        result = await schema.execute(
            document, variable_values=variables, context_value=Context(settings, viewer)
        )
        return {
            "data": result.data,
            "errors": [e.message for e in result.errors or ()],
        }

    node = "query($id: ID!) { node(id: $id) { __typename ... on Gadget { title colour } } }"
    report["node_hidden"] = await run(node, ANONYMOUS, id=gid)
    report["publish"] = await run(
        "mutation($id: ID!) { publish(id: $id, version: 1) { node { __typename } } }",
        editor,
        id=gid,
    )
    report["node_public"] = await run(node, ANONYMOUS, id=gid)
    report["read_compiler"] = list(outcomes)
    report["create_mutation"] = await run(
        'mutation { createGadget(input: {title: "Compas", colour: "noir"}) '
        "{ gadget { title colour } errors { code } } }",
        editor,
    )
    report["create_refused"] = await run(
        'mutation { createGadget(input: {title: "Compas"}) { errors { code } } }', ANONYMOUS
    )
    report["webhooks_sent"] = [
        json.loads(e.body)["data"]["id"] for e in await WebhookEvent.filter(type="gadget.published")
    ]
    now = dt.datetime.now(dt.UTC)
    documents, deletions = await load_documents("gadget", [gadget.id], now=now)
    report["search"] = {"documents": documents, "deletions": deletions}
    demo = {"gadgets": [{"slug": "sextant", "title": "Sextant", "colour": "vert"}]}
    report["demo"] = {"first": await load_demo(demo), "again": await load_demo(demo)}
    sextant = await GADGET.model.get(slug="sextant")
    report["demo_row"] = {"title": sextant.title, "status": sextant.status.value}
    return report


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1])), default=str))
