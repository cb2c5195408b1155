"""A serve-ssh server given its key in JUMPDECK_KEY and a store URL with a password
hands neither to its sessions' environments: a real session (the OpenSSH client in
tmux) gets both on its control socket, opens the store with them, and no process under
the server has either in its environment or on its command line."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from jumpdeck.core.provision.process import descendants
from tests.serve.conftest import prepare_home, start_serve, stop_serve, wait_until

PASSWORD = "Canary-serve-5be2"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


@pytest.mark.services
def test_sessions_get_the_key_and_store_url_on_the_socket_not_in_their_environment(pg_temp_url, tmux, monkeypatch) -> None:
    from jumpdeck.core.secrets import generate_key

    key = generate_key().decode()
    url = pg_temp_url.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    monkeypatch.setenv("JUMPDECK_KEY", key)  # the seeding opens the store with the same key
    base = Path(tempfile.mkdtemp(prefix="jdk", dir="/tmp"))
    home, keys = prepare_home(base, url)
    server = start_serve(home, keys, "--idle-timeout", "0", store_url=url, key=key)
    try:
        tmux.new("kim", server.ssh_line("kim"))
        tmux.wait_for("kim", "kim (operator)", timeout=60)
        # The Activity screen reads the store itself: the session opened it with the URL
        # the server handed over (its environment has none).
        tmux.send("kim", "7")
        pane = tmux.wait_for("kim", "SSH_CONNECT", timeout=60)
        assert "SSH_CONNECT" in pane, pane
        # The session starter and the session forked from it (both show its command line).
        tree = descendants(server.process.pid)
        starters = [p for p in tree if b"serve_zygote" in _read(Path(f"/proc/{p}/cmdline"))]
        assert len(starters) >= 2, [_read(Path(f"/proc/{p}/cmdline")) for p in tree]
        for pid in tree:
            environ, cmdline = _read(Path(f"/proc/{pid}/environ")), _read(Path(f"/proc/{pid}/cmdline"))
            for secret in (key.encode(), PASSWORD.encode()):
                assert secret not in environ, f"a secret is in the environment of {cmdline!r}"
                assert secret not in cmdline, f"a secret is on the command line of {cmdline!r}"
    finally:
        stop_serve(server)
        shutil.rmtree(base, ignore_errors=True)
