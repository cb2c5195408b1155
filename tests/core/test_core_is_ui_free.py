"""core/ must never import Textual or Rich: the CLI, the TUI and tests share it."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import jumpdeck.core as core

ROOT = Path(__file__).resolve().parents[2]


def test_importing_every_core_module_pulls_in_no_ui() -> None:
    modules = sorted(m.name for m in pkgutil.walk_packages(core.__path__, "jumpdeck.core."))
    assert "jumpdeck.core.config" in modules and len(modules) > 5
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core pulled in UI modules: {out.stdout.strip()}"
