"""Layers point one way: the import contracts in pyproject.toml ([tool.importlinter])
hold for the code as it is, and fail for the same code with one layer broken.

The broken copy is a copy of core/ and tui/ in a temp dir, put first on the path, with
the imports that used to close jumpdeck's import circles written back into it: the
repository itself is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# (file under the copy's jumpdeck/, a line appended to it, what the report must say)
BREAKS = [
    # A lazy import counts: it runs. This one is how core/context.py used to reach serve-ssh.
    ("core/context.py", "def _broken():\n    from jumpdeck.core.serve import session_client  # noqa: F401\n",
     "jumpdeck.core.context is not allowed to import jumpdeck.core.serve"),
    ("core/servers/registry.py", "from jumpdeck.core.servers import checks  # noqa: F401,E402\n",
     "jumpdeck.core.servers.registry is not allowed to import jumpdeck.core.servers.checks"),
    ("tui/launch.py", "from jumpdeck.tui import cli  # noqa: F401,E402\n",
     "jumpdeck.tui.launch is not allowed to import jumpdeck.tui.cli"),
    ("core/errors.py", "def _broken():\n    import rich  # noqa: F401\n",
     "jumpdeck.core.errors -> rich"),
]


def _lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        reason = f"import-linter is not installed next to {sys.executable} (pip install -e '.[test]')"
        if REQUIRE_SERVICES:
            pytest.fail(reason)
        pytest.skip(reason)
    # Wide and plain, so that a module's name is never wrapped in the report; no cache, so
    # a stale graph never answers for the code as it is.
    env = {**os.environ, **(env or {}), "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([str(LINT_IMPORTS), "--config", "pyproject.toml", "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_layers_contracts_hold() -> None:
    run = _lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_breaking_a_layer_fails_the_contracts(tmp_path: Path) -> None:
    package = tmp_path / "src" / "jumpdeck"
    for part in ("core", "tui"):
        shutil.copytree(ROOT / part, package / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for name, line, _ in BREAKS:
        with (package / name).open("a") as f:
            f.write("\n\n" + line)

    run = _lint_imports(tmp_path, env={"PYTHONPATH": str(tmp_path / "src")})
    assert run.returncode == 1, run.stdout + run.stderr
    report = " ".join(run.stdout.split())
    # The copy, not the installed tree, was the one read.
    assert "broken" in report and "0 broken" not in report
    for name, _, said in BREAKS:
        assert said in report, f"breaking {name} went unnoticed:\n{run.stdout}"
