"""docs/architecture.md tells a newcomer where things are: every path it names exists."""

from __future__ import annotations

import re


def test_every_package_and_module_the_architecture_page_names_exists(repo_root):
    text = (repo_root / "docs" / "architecture.md").read_text("utf-8")
    named = set(
        re.findall(
            r"`((?:tec|gateway|schema|search|mailer|services|tests|deploy)/[\w/.<>-]*)`", text
        )
    )
    assert len(named) > 20, named
    missing = []
    for path in sorted(named):
        if "<" in path:  # a pattern (`services/<domain>/models.py`): check one instance
            path = re.sub(r"<[^>]+>", "resources", path)
        if not (repo_root / path.rstrip("/")).exists():
            missing.append(path)
    assert missing == []


def test_the_tables_name_every_package_in_the_package_column(repo_root):
    text = (repo_root / "docs" / "architecture.md").read_text("utf-8")
    for package in ("gateway", "schema", "search", "mailer", "services"):
        row = next(line for line in text.splitlines() if line.startswith(f"| `{package}/`"))
        for name in re.findall(r"`([\w.<>/]+\.py)`", row):
            assert (repo_root / package / re.sub(r"<[^>]+>", "resources", name)).exists(), name
