"""jumpdeck --demo on a real PTY: a tmux pane of our own (tests/serve/conftest.py Tmux)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_demo(tmux, name: str, base: Path, width: int = 120, height: int = 40,  # noqa: ANN001
               term: str | None = None) -> str:
    """Start the demo in pane `name` with its home under `base` (and `term` as TERM); the
    pane once drawn."""
    env = f"JUMPDECK_HOME={shlex.quote(str(base / 'h'))} JUMPDECK_CONFIG=/dev/null"
    if term:
        env += f" TERM={shlex.quote(term)}"
    tmux.run("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height),
             f"cd {shlex.quote(str(ROOT))} && exec env {env} {shlex.quote(sys.executable)} -m jumpdeck.tui.cli --demo")
    pane = tmux.wait_for(name, "Palette", 30)
    assert "Palette" in pane, pane
    return pane
