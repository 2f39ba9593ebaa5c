"""The README is the operators' reference: it must document every setting."""

from __future__ import annotations

from services.settings import Settings


def test_readme_starts_with_the_two_commands(repo_root):
    text = (repo_root / "README.md").read_text("utf-8")
    commands = [line.split("#")[0].strip() for line in text.splitlines()[:4] if "make" in line]
    assert commands == ["make demo", "make test"]


def test_every_setting_is_documented(repo_root):
    text = (repo_root / "README.md").read_text("utf-8")
    missing = [f"TEC_{n.upper()}" for n in Settings.fields() if f"`TEC_{n.upper()}`" not in text]
    assert not missing, f"document these settings in the README: {missing}"
