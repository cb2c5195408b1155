"""Host-key verification against `~/.ssh/known_hosts` and jumpdeck's own file.

Three outcomes, never a fourth: the key is on file (trusted); no key is on file for the
host (unknown: the operator confirms the SHA256 fingerprint, then it is written to
jumpdeck's file, which the Ansible runner reads too); a different key is on file
(changed: refused, with a man-in-the-middle warning, and nothing is written).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class HostKeyOffer:
    """The key a server presented, as the confirmation dialog shows it."""

    host: str
    port: int
    algorithm: str  # "ssh-ed25519"
    fingerprint: str  # "SHA256:..."
    public_key: str  # "ssh-ed25519 AAAA..." (no comment)

    @property
    def pattern(self) -> str:
        """The known_hosts host field: OpenSSH writes [host]:port for any port but 22."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"

    @property
    def display(self) -> str:
        return self.host if self.port == 22 else f"{self.host} port {self.port}"

    @property
    def known_hosts_line(self) -> str:
        return f"{self.pattern} {self.public_key}"

    @classmethod
    def from_key(cls, host: str, port: int, key: Any) -> "HostKeyOffer":
        public = key.export_public_key("openssh").decode().split()
        return cls(host=host, port=port, algorithm=key.get_algorithm(),
                   fingerprint=key.get_fingerprint("sha256"), public_key=" ".join(public[:2]))


def default_user_known_hosts() -> Path:
    return Path("~/.ssh/known_hosts").expanduser()


@dataclass(frozen=True)
class HostKeyPolicy:
    """Which files are read and which one a confirmed key is written to."""

    store: Path  # jumpdeck's known_hosts (Config.known_hosts_path)
    user_files: tuple[Path, ...] = ()  # read-only, normally ~/.ssh/known_hosts

    @classmethod
    def for_config(cls, config, *, user_known_hosts: Path | None = None) -> "HostKeyPolicy":
        user = default_user_known_hosts() if user_known_hosts is None else user_known_hosts
        return cls(store=config.known_hosts_path, user_files=(user,))

    @property
    def files(self) -> tuple[Path, ...]:
        return (*self.user_files, self.store)

    def _read(self, path: Path):
        import asyncssh

        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        try:
            return asyncssh.import_known_hosts(text)
        except (ValueError, asyncssh.KeyImportError):
            # One bad line must not make every host "unknown": keep the lines that parse.
            good = []
            for line in text.splitlines():
                try:
                    asyncssh.import_known_hosts(line)
                    good.append(line)
                except (ValueError, asyncssh.KeyImportError):
                    continue
            return asyncssh.import_known_hosts("\n".join(good))

    def loaded(self) -> list[tuple[Path, Any]]:
        return [(path, known) for path in self.files if (known := self._read(path)) is not None]

    def combined(self) -> str:
        """All readable lines, for asyncssh's `known_hosts=` (it matches and picks algorithms)."""
        parts = []
        for path in self.files:
            try:
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
        return "\n".join(parts)

    def keys_on_file(self, host: str, addr: str, port: int) -> list[tuple[Path, Any]]:
        """Every (file, key) on file for this host, whatever the key."""
        import asyncssh

        found = []
        for path, known in self.loaded():
            trusted = asyncssh.match_known_hosts(known, host, addr, port)[0]
            found.extend((path, key) for key in trusted)
        return found

    def verdict(self, offer: HostKeyOffer, addr: str) -> tuple[str, Path | None]:
        """("trusted" | "unknown" | "changed", the file that holds the old key)."""
        on_file = self.keys_on_file(offer.host, addr, offer.port)
        if not on_file:
            return "unknown", None
        for path, key in on_file:
            if key.get_fingerprint("sha256") == offer.fingerprint:
                return "trusted", path
        return "changed", on_file[0][0]


def trust_host_key(offer: HostKeyOffer, store: Path) -> None:
    """Append a confirmed key to jumpdeck's known_hosts (created 0600)."""
    store.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        existing = store.read_bytes()
        prefix = b"\n" if existing and not existing.endswith(b"\n") else b""
        os.write(fd, prefix + offer.known_hosts_line.encode() + b"\n")
    finally:
        os.close(fd)
