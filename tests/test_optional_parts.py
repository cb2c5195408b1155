"""The README's word: on a host without an optional part the suite skips what needs it,
with the reason, and fails it under JUMPDECK_REQUIRE_SERVICES=1. The tests that need
unixODBC and FreeTDS are run here in a pytest of their own on a host that lacks them:
pyodbc that cannot load libodbc.so.2, and a unixODBC with no driver registered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NEEDS_ODBC = [
    "tests/core/servers/test_checks_real.py::test_closed_port_is_refused[mssql]",
    "tests/core/servers/test_checks_real.py::test_silent_listener_times_out_within_deadline[mssql]",
    "tests/tui/test_servers_screen.py::test_enter_opens_the_dashboard_and_sets_the_banner",
]
NO_LIBODBC = '''
import sys


class _NoUnixOdbc:
    def find_spec(self, name, path=None, target=None):
        if name == "pyodbc":
            raise ImportError("libodbc.so.2: cannot open shared object file: No such file or directory")
        return None


sys.meta_path.insert(0, _NoUnixOdbc())
'''


def _host_without_libodbc(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "sitecustomize.py").write_text(NO_LIBODBC)
    return {"PYTHONPATH": str(tmp_path)}


def _host_without_freetds(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "odbcinst.ini").write_text("")
    (tmp_path / "odbc.ini").write_text("")
    return {"ODBCSYSINI": str(tmp_path), "ODBCINSTINI": "odbcinst.ini", "ODBCINI": str(tmp_path / "odbc.ini")}


def _pytest(extra_env: dict[str, str], require: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "JUMPDECK_REQUIRE_SERVICES" and not k.startswith("PYTEST")}
    env.update(extra_env)
    if require:
        env["JUMPDECK_REQUIRE_SERVICES"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:randomly", "-p", "no:cacheprovider",
                           *NEEDS_ODBC], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("host,reason", [(_host_without_libodbc, "unixODBC is not installed"),
                                         (_host_without_freetds, "no ODBC driver for SQL Server")])
def test_tests_needing_odbc_skip_with_the_reason_and_fail_when_required(tmp_path, host, reason) -> None:
    extra = host(tmp_path)
    out = _pytest(extra, require=False)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "3 skipped" in out.stdout and f"SKIPPED [3] tests/conftest.py" in out.stdout, out.stdout[-3000:]
    assert reason in out.stdout, out.stdout[-3000:]
    required = _pytest(extra, require=True)
    # Failed in setup, before the test body: pytest counts them as errors.
    assert required.returncode == 1 and "3 errors" in required.stdout, required.stdout[-3000:]
    assert f"required service unavailable: {reason}" in required.stdout
