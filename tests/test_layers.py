"""The layers contract of pyproject.toml: tec → gateway → schema → search | mailer → services."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_import_layers_are_respected(repo_root):
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), f"{lint_imports} missing: pip install -e '.[test]'"
    result = subprocess.run(
        [str(lint_imports)], cwd=repo_root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
