"""The GraphQL examples of the README and of docs/ are valid against the schema: a reader
who pastes one into the IDE gets an answer, not a validation error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import DocumentNode, OperationDefinitionNode, parse, validate

from schema import build_schema
from schema.strawberry_compat import graphql_core_schema

_BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)
_ROOT = Path(__file__).resolve().parent.parent
_PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (_ROOT / "docs").glob("*.md"))]


def _blocks(text: str) -> list[str]:
    return _BLOCK.findall(text)


@pytest.fixture(scope="module")
def core_schema():
    return graphql_core_schema(build_schema())


def _operations(block: str) -> list[DocumentNode]:
    """Each operation of ``block`` as a document of its own (a walk-through lists several
    anonymous ones one after the other)."""
    document = parse(block)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    others = [d for d in document.definitions if not isinstance(d, OperationDefinitionNode)]
    return [DocumentNode(definitions=(operation, *others)) for operation in operations]


def test_the_readme_has_graphql_examples(repo_root):
    assert len(_blocks((repo_root / "README.md").read_text("utf-8"))) >= 5


@pytest.mark.parametrize("page", _PAGES)
def test_every_graphql_example_is_valid(repo_root, core_schema, page):
    path = repo_root / page
    for block in _blocks(path.read_text("utf-8")):
        for document in _operations(block):
            errors = validate(core_schema, document)
            assert not errors, f"{page}: {[e.message for e in errors]}\n{block}"


def test_every_mutation_example_selects_its_errors(repo_root, core_schema):
    """Refusals of a mutation are data: an example that does not select them would show
    a reader nothing when a mutation is refused."""
    for page in _PAGES:
        for block in _blocks((repo_root / page).read_text("utf-8")):
            for document in _operations(block):
                [operation, *_] = document.definitions
                if operation.operation.value != "mutation":
                    continue
                for selection in operation.selection_set.selections:
                    names = [s.name.value for s in selection.selection_set.selections]
                    assert "errors" in names, f"{page}: {selection.name.value} without errors"
