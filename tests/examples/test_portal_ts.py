"""The TypeScript portal client (examples/portal-ts): its types are generated from the
committed schema.graphql, it type-checks, and it prints a live demo gateway's home page.
A schema that renames a field the client reads fails its build. Needs Node and npm;
skipped with the reason otherwise."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import live_server

pytestmark = [pytest.mark.node, pytest.mark.heavy]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "portal-ts"


def _npm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args],
        cwd=EXAMPLE,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# Installed packages, kept between runs and clones by the hash of the lock they come from.
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tec-tests"
MARK = ".tec-lock-sha256"


def _install() -> str | None:
    """``npm ci`` unless node_modules already comes from this lock, or a copy of the
    packages of this lock kept in ``CACHE``; the reason the example cannot be built here,
    or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node and npm are needed for the TypeScript portal client"
    modules = EXAMPLE / "node_modules"
    lock = hashlib.sha256((EXAMPLE / "package-lock.json").read_bytes()).hexdigest()
    if (modules / MARK).is_file() and (modules / MARK).read_text() == lock:
        return None
    kept = CACHE / f"portal-ts-{lock[:16]}"
    if (kept / MARK).is_file():
        shutil.rmtree(modules, ignore_errors=True)
        shutil.copytree(kept, modules, symlinks=True)
        return None
    result = _npm("ci", "--no-audit", "--no-fund")
    if result.returncode != 0:
        return f"npm ci failed in {EXAMPLE}: {result.stderr.strip()[-300:]}"
    (modules / MARK).write_text(lock)
    partial = CACHE / f"{kept.name}.{os.getpid()}"
    try:
        shutil.copytree(modules, partial, symlinks=True)
        partial.rename(kept)
    except OSError:  # a read-only home, or another run kept the same packages first
        shutil.rmtree(partial, ignore_errors=True)
    return None


@pytest.fixture(scope="module")
def built() -> Path:
    problem = _install()
    if problem:
        pytest.skip(problem)
    # ``npm run build`` is ``tsc``: it type-checks as ``npm run check`` does, and fails on
    # a type error, so the one compilation is both.
    for step in ("codegen", "build"):
        result = _npm("run", step)
        assert result.returncode == 0, f"npm run {step}:\n{result.stdout}\n{result.stderr}"
    return EXAMPLE / "dist" / "portal.js"


def test_the_typed_client_and_the_python_example_print_the_demo_portal(built, tmp_path):
    with live_server(tmp_path) as server:
        result = subprocess.run(
            ["node", str(built), f"{server.base_url}/graphql"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        python = subprocess.run(
            [sys.executable, "-c", _python_snippet()],
            env={**os.environ, "TEC_GRAPHQL_URL": f"{server.base_url}/graphql"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        expected = server.graphql(
            """{ currentTheme { title } nextTheme { title }
                 resources(first: 5, order: NEWEST) { edges { node { title } } } }"""
        )["data"]
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert f"Thématique du mois : {expected['currentTheme']['title']}" in text
    assert f"Thématique à venir : {expected['nextTheme']['title']}" in text
    resources = text.split("Dernières ressources :")[1].split("Agenda :")[0]
    titles = [edge["node"]["title"] for edge in expected["resources"]["edges"]]
    assert len(titles) == 5
    for title in titles:
        assert f"- {title} (" in resources
    # Upcoming events, with their French date and place: the demo dates them from today.
    agenda = text.split("Agenda :")[1].strip().splitlines()
    assert agenda, text
    assert all(re.match(r"- \d{1,2} \w+ \d{4} : .+ \(.+, .+\)$", line) for line in agenda), agenda
    # docs/clients.md's Python example, against the same gateway.
    assert python.returncode == 0, python.stderr
    assert python.stdout.startswith(f"Thématique du mois : {expected['currentTheme']['title']}")
    for title in titles:
        assert f"- {title} — " in python.stdout


def _python_snippet() -> str:
    text = (EXAMPLE.parents[1] / "docs" / "clients.md").read_text("utf-8")
    return text.split("```python\n", 1)[1].split("```", 1)[0]


def test_a_renamed_field_fails_the_build(built, tmp_path):
    schema = (EXAMPLE.parents[1] / "schema.graphql").read_text("utf-8")
    start = schema.index("type Resource implements Node {")
    field = schema.index("\n  kindLabel: String!", start)
    renamed = schema[:field] + schema[field:].replace("kindLabel", "kindName", 1)
    broken = tmp_path / "schema.graphql"
    broken.write_text(renamed, "utf-8")
    generated = (EXAMPLE / "src" / "gql" / "graphql.ts").read_text("utf-8")

    result = _npm("run", "codegen", env={"TEC_SCHEMA": str(broken)})

    assert result.returncode != 0
    assert 'Cannot query field "kindLabel" on type "Resource"' in result.stdout + result.stderr
    # Nothing half-generated is left behind.
    assert (EXAMPLE / "src" / "gql" / "graphql.ts").read_text("utf-8") == generated
