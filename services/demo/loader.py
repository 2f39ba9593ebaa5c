"""Load the demo data: each content type's rows (the seeds' organisations, territories,
themes, resources, events…) by the loader its declaration carries
(:attr:`services.registry.ContentType.demo`), then the seeds' newsletters as issues
(``services.demo.issues``).

This module knows no content type: it asks the registry for the types with demo rows and
loads them in dependency order (a type after the types its ``after`` names, otherwise in
the order they were registered).

Idempotent: every row is matched by its slug and updated in place, links are added once,
so running it again on a loaded database changes nothing and duplicates nothing.
"""

from __future__ import annotations

import json
from importlib import resources as package_files
from typing import Any

from tortoise.transactions import in_transaction

from services.demo.issues import load_demo_issues
from services.demo.rows import DemoRun
from services.registry import ContentType, content_types


def read_demo_data() -> dict[str, Any]:
    """The demo data file shipped inside the package."""
    text = package_files.files("services.demo").joinpath("data.json").read_text("utf-8")
    return json.loads(text)


def demo_order() -> list[ContentType]:
    """The content types with demo rows, each after the ones it refers to."""
    waiting = [c for c in content_types() if c.demo is not None]
    ordered: list[ContentType] = []
    done: set[str] = set()
    while waiting:
        ready = next(
            (c for c in waiting if c.demo is not None and all(n in done for n in c.demo.after)),
            None,
        )
        if ready is None:
            stuck = ", ".join(f"{c.name} after {c.demo.after}" for c in waiting if c.demo)
            raise ValueError(f"demo loaders wait for types that never load: {stuck}")
        waiting.remove(ready)
        ordered.append(ready)
        done.add(ready.name)
    return ordered


async def load_demo(data: dict[str, Any] | None = None) -> dict[str, int]:
    """Load ``data`` (the shipped file by default) in one transaction.

    Returns how many rows of each model were seen (``Model``) and created (``Model+``)."""
    run = DemoRun(data if data is not None else read_demo_data())
    async with in_transaction():
        for content in demo_order():
            assert content.demo is not None
            rows = run.rows.setdefault(content.name, {})
            for entry in run.data.get(content.demo.key, []):
                rows[entry["slug"]] = await content.demo.load(entry, run)
        await load_demo_issues(run.data, run.counts)
    return {k: v for k, v in sorted(run.counts.items()) if v}
