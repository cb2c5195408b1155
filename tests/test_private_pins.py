"""Each library whose private details jumpdeck reads is pinned below its next release
line, next to a comment naming those details and the test that watches them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WATCHED = {
    "textual": "tests/tui/test_quiet_driver.py",
    "pyte": "tests/ssh/test_emulator_pyte_details.py",
    "pymysql": "tests/core/servers/test_mysql_shared_tls.py",
}


def test_libraries_with_private_details_have_an_upper_bound_and_a_comment():
    text = (ROOT / "pyproject.toml").read_text()
    dependencies = tomllib.loads(text)["project"]["dependencies"]
    for name, test in WATCHED.items():
        spec = next(d for d in dependencies if re.match(rf"{name}\b", d, re.IGNORECASE))
        assert re.search(r",<\d", spec), f"{spec}: no upper bound"
        comment = text[:text.index(f'"{spec}"')].rsplit('",', 1)[-1]
        assert "private" in comment and test in comment, f"{spec}: the comment above it names no private detail or test"
        assert (ROOT / test).exists()
