"""Trusting a VM's SSH host key from a failed run (the runner never prompts: an unknown
or changed key fails the run with a sentence naming host and fingerprint, and the
operator trusts it here after checking that fingerprint)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from jumpdeck.core.child_env import child_environment
from jumpdeck.core.errors import JumpdeckError, ValidationError
from jumpdeck.core.private_files import private_dir, write_private_text

_WHERE = re.compile(r"\((\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]+):(\d+)\) is not in jumpdeck's known_hosts")


@dataclass(frozen=True)
class HostKey:
    host: str
    port: int
    line: str  # the known_hosts line
    fingerprint: str  # SHA256:...


def refused_host(error: str) -> tuple[str, int] | None:
    """The (host, port) a run's error says had an unknown or changed key, if any."""
    match = _WHERE.search(error or "")
    return (match.group(1), int(match.group(2))) if match else None


def scan(host: str, port: int) -> HostKey:
    scan = subprocess.run(["ssh-keyscan", "-T", "5", "-p", str(port), "-t", "ed25519", host],
                          capture_output=True, text=True, env=child_environment(), timeout=10)
    lines = [ln for ln in scan.stdout.splitlines() if ln and not ln.startswith("#")]
    if not lines:
        raise JumpdeckError(f"{host}:{port} did not offer an SSH host key.", remedy="Check that its sshd is running.")
    out = subprocess.run(["ssh-keygen", "-lf", "-"], input=lines[0] + "\n", capture_output=True, text=True, env=child_environment(), timeout=10)
    return HostKey(host, port, lines[0], out.stdout.split()[1])


def trust(known_hosts: Path, key: HostKey, *, expected_fingerprint: str) -> None:
    """Add `key` to jumpdeck's known_hosts, replacing older keys of that host, only if
    it still has the fingerprint the operator was shown."""
    if key.fingerprint != expected_fingerprint:
        raise ValidationError(f"{key.host}:{key.port} now offers {key.fingerprint}, not {expected_fingerprint}.",
                              remedy="Do not trust it; find out why the key changed.")
    name = key.line.split()[0]
    private_dir(known_hosts.parent)
    kept = [ln for ln in (known_hosts.read_text().splitlines() if known_hosts.exists() else []) if ln.split()[:1] != [name]]
    write_private_text(known_hosts, "\n".join(kept + [key.line]) + "\n")
