"""Dependencies: the lock agrees with pyproject.toml, and every import is declared.

``make lock`` resolves pyproject.toml into uv.lock and exports it as the requirement files
installs use: requirements/runtime.txt (the image) and requirements/test.txt (``make``,
CI), every file pinned with its hashes. An edit of pyproject.toml without ``make lock``
fails here, and so does code importing a distribution that only comes in as a dependency
of another one (it could vanish with that one's next release).
"""

from __future__ import annotations

import ast
import gc
import importlib.metadata
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
LOCKED_FILES = {
    "runtime": ROOT / "requirements" / "runtime.txt",
    "test": ROOT / "requirements" / "test.txt",
}
# The installed packages of the project; bench/ and tests/ run from the source tree with
# the test extra installed.
PACKAGES = sorted(
    {
        p.rstrip("*").rstrip(".")
        for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
)
SOURCE_TREES = ["bench", "deploy", "tests"]


def _declared(extra: str | None = None) -> list[Requirement]:
    names = PROJECT["dependencies"] if extra is None else PROJECT["optional-dependencies"][extra]
    return [Requirement(line) for line in names]


def _pins(path: Path) -> dict[NormalizedName, set[Version]]:
    """{distribution: its pinned versions} of an exported requirement file (one version,
    or several where the resolution forks on markers); each pin must carry its hashes."""
    logical: list[str] = []
    buffer = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        buffer += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            logical.append(buffer.strip())
            buffer = ""
    pins: dict[NormalizedName, set[Version]] = defaultdict(set)
    for line in logical:
        requirement, _, hashes = line.partition(" --hash=")
        parsed = Requirement(requirement)
        [specifier] = parsed.specifier
        assert specifier.operator == "==", f"{path.name}: not pinned: {line}"
        assert hashes.startswith("sha256:"), f"{path.name}: no hash for {parsed.name}"
        pins[canonicalize_name(parsed.name)].add(Version(specifier.version))
    return pins


def _lock() -> dict[NormalizedName, list[dict]]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    packages: dict[NormalizedName, list[dict]] = defaultdict(list)
    for package in lock["package"]:
        packages[canonicalize_name(package["name"])].append(package)
    return packages


# --- The lock ------------------------------------------------------------------------------


def test_every_declared_dependency_is_locked_at_an_allowed_version():
    lock = _lock()
    expected = {
        "runtime": _declared(),
        "test": _declared() + _declared("test"),
    }
    problems: list[str] = []
    for which, requirements in expected.items():
        pins = _pins(LOCKED_FILES[which])
        for requirement in requirements:
            if requirement.marker and not requirement.marker.evaluate():
                continue
            name = canonicalize_name(requirement.name)
            if name not in pins:
                problems.append(f"{requirement} is not in requirements/{which}.txt")
                continue
            for version in pins[name]:
                if not requirement.specifier.contains(version, prereleases=True):
                    problems.append(
                        f"requirements/{which}.txt pins {name}=={version}: {requirement}"
                    )
            # What the extras we ask for bring (tortoise-orm[asyncpg], uvicorn[standard]).
            for package in lock.get(name, []):
                for extra in requirement.extras:
                    for dependency in package.get("optional-dependencies", {}).get(extra, []):
                        if canonicalize_name(dependency["name"]) not in pins:
                            problems.append(
                                f"{dependency['name']} ({requirement}) is not in "
                                f"requirements/{which}.txt"
                            )
    assert not problems, "run `make lock`:\n" + "\n".join(problems)


def _normalized(
    name: str, extras: object, specifier: str, marker: str | None
) -> tuple[str, frozenset[str], SpecifierSet, str | None]:
    return (
        canonicalize_name(name),
        frozenset(extras or ()),  # type: ignore[arg-type]
        SpecifierSet(specifier),
        str(Marker(marker)) if marker else None,
    )


def _listed(requirements: set[tuple[str, frozenset[str], SpecifierSet, str | None]]) -> str:
    return ", ".join(
        sorted(
            f"{name}{'[' + ','.join(sorted(extras)) + ']' if extras else ''}{specifier}"
            + (f" ; {marker}" if marker else "")
            for name, extras, specifier, marker in requirements
        )
    )


def test_the_lock_was_resolved_from_this_pyproject():
    """uv.lock records the requirements it was resolved from: they must be pyproject's
    (a new dependency already present through another one passes the pins, not this)."""
    [project] = _lock()[canonicalize_name(PROJECT["name"])]
    recorded = {
        _normalized(r["name"], r.get("extras"), r.get("specifier", ""), r.get("marker"))
        for r in project["metadata"]["requires-dist"]
    }
    declared = {
        _normalized(r.name, r.extras, str(r.specifier), str(r.marker) if r.marker else None)
        for r in _declared()
    }
    for extra in PROJECT.get("optional-dependencies", {}):
        for r in _declared(extra):
            marker = (
                f"extra == '{extra}'" if not r.marker else f"({r.marker}) and extra == '{extra}'"
            )
            declared.add(_normalized(r.name, r.extras, str(r.specifier), marker))
    assert recorded == declared, (
        "uv.lock is stale, run `make lock`:\n"
        f"only in pyproject.toml: {_listed(declared - recorded)}\n"
        f"only in uv.lock: {_listed(recorded - declared)}"
    )
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    assert SpecifierSet(lock["requires-python"]) == SpecifierSet(PROJECT["requires-python"])


def test_the_requirement_files_are_exported_from_the_lock():
    versions = {
        name: {Version(p["version"]) for p in packages} for name, packages in _lock().items()
    }
    runtime, test = (_pins(LOCKED_FILES[which]) for which in ("runtime", "test"))
    for which, pins in (("runtime", runtime), ("test", test)):
        stale = {
            name: pinned for name, pinned in pins.items() if not pinned <= versions.get(name, set())
        }
        assert not stale, f"requirements/{which}.txt differs from uv.lock, run `make lock`: {stale}"
    assert runtime.items() <= test.items(), "the test install must hold the runtime one"


def _make_rule(target: str) -> tuple[list[str], list[str]]:
    """(prerequisites, recipe lines) of a Makefile rule, variables left as written."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    [start] = [i for i, line in enumerate(lines) if line.startswith(f"{target}:")]
    prerequisites = lines[start].partition(":")[2].split()
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return prerequisites, recipe


def test_make_installs_the_lock_then_the_project():
    prerequisites, recipe = _make_rule("$(STAMP)")
    assert "$(LOCK)" in prerequisites and "pyproject.toml" in prerequisites
    installs = [line for line in recipe if " pip install " in line and "upgrade pip" not in line]
    assert installs[0].endswith("--require-hashes -r requirements/test.txt"), installs
    assert installs[1:] and all("--no-deps" in line for line in installs[1:]), installs
    # The stamp's name changes with the lock: a new lock means a new install.
    assert "$(shell cat pyproject.toml $(LOCK)" in (ROOT / "Makefile").read_text("utf-8")


# --- Imports -------------------------------------------------------------------------------


def _module_owners() -> dict[str, set[NormalizedName]]:
    """{dotted module: the installed distributions whose files define it}. A namespace
    package (opentelemetry) has no __init__ and so no owner; its subpackages have theirs."""
    owners: dict[str, set[NormalizedName]] = defaultdict(set)
    for dist in importlib.metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        for file in dist.files or ():
            if ".." in file.parts or file.suffix not in (".py", ".so", ".pyd"):
                continue
            stem = file.parts[-1].split(".")[0]
            dotted = file.parts[:-1] if stem == "__init__" else (*file.parts[:-1], stem)
            owners[".".join(dotted)].add(name)
    return owners


def _parsed(path: Path) -> ast.Module:
    """``ast.parse`` with the garbage collector held: on Python 3.11 a collection inside
    the parser may run finalizers that parse too (a traceback's carets), which breaks the
    parser's state (« AST constructor recursion depth mismatch »)."""
    gc.disable()
    try:
        return ast.parse(path.read_text(encoding="utf-8"), str(path))
    finally:
        gc.enable()


def _imports(path: Path) -> set[str]:
    """Absolute imports of a file, as dotted names (``from a.b import c`` gives ``a.b.c``:
    ``c`` may be a module of another distribution than ``a.b``)."""
    found: set[str] = set()
    for node in ast.walk(_parsed(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _owners_of(module: str, owners: dict[str, set[NormalizedName]]) -> set[NormalizedName]:
    """The distributions of the longest part of ``module`` some file defines; else those
    importlib names for its top-level package (distributions that list no files)."""
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        if found := owners.get(".".join(parts[:depth])):
            return found
    top_level = importlib.metadata.packages_distributions().get(parts[0], [])
    return {canonicalize_name(name) for name in top_level}


def test_every_third_party_import_is_declared():
    owners = _module_owners()
    runtime = {canonicalize_name(r.name) for r in _declared()}
    optional = {
        extra: {canonicalize_name(r.name) for r in _declared(extra)}
        for extra in PROJECT.get("optional-dependencies", {})
    }
    features = runtime.union(*(names for extra, names in optional.items() if extra != "test"))
    everything = features | optional.get("test", set())
    first_party = {*PACKAGES, *SOURCE_TREES}
    problems: list[str] = []
    for tree in PACKAGES + SOURCE_TREES:
        allowed = features if tree in PACKAGES else everything
        for path in sorted((ROOT / tree).rglob("*.py")):
            for module in sorted(_imports(path)):
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in first_party:
                    continue
                if (path.parent / f"{top}.py").exists() or (path.parent / top).is_dir():
                    continue  # a script's sibling module
                where = path.relative_to(ROOT)
                dists = _owners_of(module, owners)
                if not dists:
                    problems.append(f"{where}: {module} comes from no installed distribution")
                elif not dists & allowed:
                    problems.append(
                        f"{where}: {module} (from {', '.join(sorted(dists))}) is not declared"
                        + (" in [project] dependencies" if tree in PACKAGES else "")
                    )
    assert not problems, "declare in pyproject.toml, then `make lock`:\n" + "\n".join(problems)


def _bounds(specifier: SpecifierSet, operators: tuple[str, ...]) -> list[Version]:
    return [Version(s.version) for s in specifier if s.operator in (*operators, "==")]


def test_the_graphql_core_range_is_within_the_one_strawberry_requires():
    """strawberry-graphql pins graphql-core to a range of its own: ours may be narrower,
    never wider (a floor below theirs promises installs that cannot resolve)."""
    [ours] = [r for r in _declared() if canonicalize_name(r.name) == "graphql-core"]
    [theirs] = [
        requirement
        for line in importlib.metadata.requires("strawberry-graphql") or []
        if canonicalize_name((requirement := Requirement(line)).name) == "graphql-core"
        and not requirement.marker
    ]
    if floors := _bounds(theirs.specifier, (">=", ">")):
        ours_floors = _bounds(ours.specifier, (">=", ">"))
        assert ours_floors and max(ours_floors) >= max(floors), (
            f"our {ours} goes below strawberry's {theirs}"
        )
    if ceilings := _bounds(theirs.specifier, ("<", "<=")):
        ours_ceilings = _bounds(ours.specifier, ("<", "<="))
        assert ours_ceilings and min(ours_ceilings) <= min(ceilings), (
            f"our {ours} goes above strawberry's {theirs}"
        )
    for version in _pins(LOCKED_FILES["runtime"])[canonicalize_name("graphql-core")]:
        assert theirs.specifier.contains(version, prereleases=True), version
        assert ours.specifier.contains(version, prereleases=True), version
