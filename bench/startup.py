"""Start-up: time to the first frame and to a usable shell (store open, screen up),
against a minimal Textual app measured the same way in the same run.

    .venv/bin/python bench/startup.py [--runs 7]

Each run is a fresh interpreter (imports included), headless.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = r"""
import time, json
t0 = time.perf_counter()
from textual.app import App
from textual.widgets import Footer, Static
class Minimal(App):
    def compose(self):
        yield Static("hello")
        yield Footer()
    def on_ready(self):
        self.exit(time.perf_counter() - t0)
print(json.dumps({"first_frame": Minimal().run(headless=True, size=(120, 40))}))
"""

JUMPDECK = r"""
import time, json, sys
t0 = time.perf_counter()
from jumpdeck.core.config import load_config
from jumpdeck.tui.app import JumpdeckApp
marks = {}
class Timed(JumpdeckApp):  # JumpdeckApp's CSS_PATH is absolute, so a -c subclass finds it
    def on_ready(self):
        marks["first_frame"] = time.perf_counter() - t0
        self.set_interval(0.005, self._poll)
    def _poll(self):
        if self.ctx is not None and self.current_mode != "_default":
            marks["shell_ready"] = time.perf_counter() - t0
            self.exit(0)
Timed(load_config(cli={"home": sys.argv[1]}), user="bench").run(headless=True, size=(120, 40))
print(json.dumps(marks))
"""


def run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="jd-bench-")
    run(JUMPDECK, home)  # first start creates and migrates the store: not what we measure
    minimal, first, ready = [], [], []
    for _ in range(args.runs):
        minimal.append(run(MINIMAL)["first_frame"])
        marks = run(JUMPDECK, home)
        first.append(marks["first_frame"])
        ready.append(marks["shell_ready"])
    m, f, r = (statistics.median(x) * 1000 for x in (minimal, first, ready))
    print(f"minimal Textual app, first frame   median {m:7.1f} ms")
    print(f"jumpdeck, first frame (boot)       median {f:7.1f} ms   ratio {f / m:.2f}")
    print(f"jumpdeck, shell ready (store open) median {r:7.1f} ms   ratio {r / m:.2f}")


if __name__ == "__main__":
    main()
