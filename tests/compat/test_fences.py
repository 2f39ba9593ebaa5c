"""Private internals of libraries are used only in their compat module.

Each library whose internals the code relies on has one module that touches them, its
assumptions tested next to this file. This test keeps new uses from appearing anywhere
else in the production code: it reads every module's tokens (strings and comments
aside, except a string that names a fenced attribute, as ``getattr`` takes it) for the
names each fence holds, and every import for private modules of other distributions.

It cannot know the type of an object, so it looks for names: ``names`` anywhere (they
are the libraries' own), ``attributes`` when read on something else than ``self`` or
``cls`` (names like ``_offset`` are also private state of the project's own classes).
The libraries themselves are pinned exactly: the compat tests vouch for one version.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import io
import re
import sys
import tokenize
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("gateway", "schema", "services", "search", "mailer", "tec")
FIRST_PARTY = set(PRODUCTION)


@dataclass(frozen=True)
class Fence:
    library: str
    modules: frozenset[str]
    names: frozenset[str] = field(default_factory=frozenset)
    attributes: frozenset[str] = field(default_factory=frozenset)


FENCES = (
    Fence(
        "graphql-core",
        frozenset({"schema/compat_graphql.py"}),
        names=frozenset(
            {"collect_fields", "collect_subfields", "build_response", "build_resolve_info"}
        ),
        attributes=frozenset({"finish"}),
    ),
    Fence(
        "asyncio (the Task protocol)",
        frozenset({"schema/compat_asyncio.py"}),
        names=frozenset({"_asyncio_future_blocking"}),
    ),
    Fence(
        "strawberry-graphql",
        frozenset({"schema/strawberry_compat.py"}),
        names=frozenset(
            {
                "_strawberry_schema",
                "_exception_handler_specs",
                "_raw_info",
                "DEFINITION_BACKREF",
                "GraphQLCoreConverter",
                "StrawberryGraphQLCoreExecutionContext",
                "__strawberry_definition__",
                "base_resolver",
                "wrapped_func",
                "is_basic_field",
                "self_parameter",
                "root_parameter",
                "parent_parameter",
                "info_parameter",
                "BaseGraphQLTransportWSHandler",
                "handle_connection_init",
                "handle_subscribe",
                "handle_invalid_message",
                "connection_init_received",
                "connection_acknowledged",
                "connection_init_timeout_task",
            }
        ),
        attributes=frozenset({"_schema"}),
    ),
    Fence(
        "tortoise-orm",
        frozenset({"services/compat_tortoise.py", "services/compat_tortoise_sqlite.py"}),
        names=frozenset(
            {
                "_meta",
                "_choose_db_if_not_chosen",
                "_make_query",
                "_q_objects",
                "_orderings",
                "_is_negated",
                "_select_related",
                "_prefetch_map",
                "_annotations",
                "_fields_for_select",
                "_custom_filters",
                "_group_bys",
                "_force_indexes",
                "_use_indexes",
                "_select_for_update",
                "_init_from_db",
                "_saved_in_db",
                "_custom_generated_pk",
                "_await_when_save",
                "_trxlock",
                "db_native_fields",
                "db_default_fields",
                "db_complex_fields",
                "TransactionalDBClient",
                "SqliteTransactionWrapper",
                "SqliteTransactionContext",
            }
        ),
        attributes=frozenset(
            {"_db", "_limit", "_offset", "_distinct", "_having", "_partial", "_connection"}
        ),
    ),
    Fence(
        "meilisearch-python-sdk",
        frozenset(),  # none: production uses its public API only
        names=frozenset({"_http_requests", "AsyncHttpRequests"}),
        attributes=frozenset({"_headers"}),
    ),
)
COMPAT_MODULES = frozenset().union(*(fence.modules for fence in FENCES))
# Where an import of a private module may be (the syntax tree then tells).
PRIVATE_IMPORT = re.compile(r"\b(?:from|import)\s+\w+(?:\.\w+)*\._")


def _production_files() -> list[Path]:
    return sorted(
        path
        for tree in PRODUCTION
        for path in (ROOT / tree).rglob("*.py")
        if "migrations" not in path.parts
    )


@functools.cache
def _code_tokens(path: Path) -> list[tokenize.TokenInfo]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text("utf-8")).readline)
    return [t for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE)]


def _read_on_another_object(code: list[tokenize.TokenInfo], i: int) -> bool:
    """``<x>.<name>`` with ``<x>`` neither ``self`` nor ``cls``."""
    return i >= 2 and code[i - 1].string == "." and code[i - 2].string not in ("self", "cls")


def _uses(path: Path, fence: Fence, root: Path = ROOT) -> list[str]:
    anywhere = fence.names | fence.attributes
    pattern = re.compile(r"\b(?:" + "|".join(sorted(anywhere)) + r")\b")
    if not pattern.search(path.read_text("utf-8")):
        return []  # the tokens are read only where some name shows
    found = []
    code = _code_tokens(path)
    for i, token in enumerate(code):
        if token.type == tokenize.NAME:
            if token.string in fence.names:
                found.append((token, token.string))
            elif token.string in fence.attributes and _read_on_another_object(code, i):
                found.append((token, f".{token.string}"))
        elif token.type == tokenize.STRING and token.string.strip("'\"") in anywhere:
            found.append((token, token.string))  # getattr(x, "_name")
    where = path.relative_to(root)
    return [f"{where}:{token.start[0]}: {text}" for token, text in found]


def test_fenced_internals_are_used_only_in_their_compat_module():
    problems = []
    for fence in FENCES:
        for path in _production_files():
            if str(path.relative_to(ROOT)) not in fence.modules:
                problems += [f"{use} ({fence.library})" for use in _uses(path, fence)]
    assert not problems, (
        "private internals used outside their compat module: add a named function to the "
        "library's compat module (and its test in tests/compat/):\n" + "\n".join(problems)
    )


def test_no_private_module_of_a_library_is_imported_outside_compat_modules():
    problems = []
    for path in _production_files():
        text = path.read_text("utf-8")
        if str(path.relative_to(ROOT)) in COMPAT_MODULES or not PRIVATE_IMPORT.search(text):
            continue
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                top, *rest = module.split(".")
                if top in FIRST_PARTY or top in sys.stdlib_module_names:
                    continue
                if any(part.startswith("_") for part in rest):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {module}")
    assert not problems, "private modules imported outside compat modules:\n" + "\n".join(problems)


def test_the_guard_finds_what_it_looks_for(tmp_path):
    """The scan itself: a use on another object is found, the project's own state on
    ``self`` is not, and neither are comments."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(query, schema):\n"
        "    self._offset = query._offset  # _q_objects in a comment\n"
        "    getattr(query, '_q_objects', None)\n"
        "    return schema._strawberry_schema\n",
        encoding="utf-8",
    )
    fence = next(f for f in FENCES if f.library == "tortoise-orm")
    assert [use.split(": ", 1)[1] for use in _uses(sample, fence, tmp_path)] == [
        "._offset",
        "'_q_objects'",
    ]
    strawberry = next(f for f in FENCES if f.library == "strawberry-graphql")
    assert [use.split(": ", 1)[1] for use in _uses(sample, strawberry, tmp_path)] == [
        "_strawberry_schema"
    ]


def test_libraries_whose_internals_are_used_are_pinned_exactly():
    """The compat tests vouch for one version: pyproject.toml pins it, and it is the one
    installed (an upgrade is a new pin, ``make lock``, and these tests)."""
    declared = {
        canonicalize_name(requirement.name): requirement
        for requirement in map(
            Requirement,
            tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"],
        )
    }
    for library in ("strawberry-graphql", "graphql-core", "tortoise-orm"):
        [specifier] = declared[library].specifier
        assert specifier.operator == "==", f"{library} must be pinned exactly: {specifier}"
        assert importlib.metadata.version(library) == specifier.version, library
