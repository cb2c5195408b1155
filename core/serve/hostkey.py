"""The server's host key: ed25519, generated on first start, reused after.

A host key that changes makes every client's known_hosts shout, so it is written once
(0600, like sshd's) and only read afterwards."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from jumpdeck.core.errors import ConfigError

HOST_KEY_NAME = "ssh_host_ed25519_key"


def default_host_key_path(home: Path) -> Path:
    return home / HOST_KEY_NAME


def load_or_create_host_key(path: Path) -> tuple[Any, bool]:
    """The asyncssh private key at `path`, creating it if missing. Returns (key, created)."""
    import asyncssh

    path = path.expanduser()
    created = False
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="jumpdeck serve-ssh")
        # O_EXCL + 0600 from the start: the private key is never readable by others,
        # not even for the moment between write and chmod.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.export_private_key())
        path.with_name(path.name + ".pub").write_bytes(key.export_public_key())
        created = True
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"The host key {path} can be read by other users (mode {stat.S_IMODE(mode):o}).",
            remedy=f"Run: chmod 600 {path}",
        )
    try:
        key = asyncssh.read_private_key(str(path))
    except (OSError, ValueError, asyncssh.KeyImportError) as exc:
        raise ConfigError(f"The host key {path} cannot be read: {exc}.",
                          remedy="Point --host-key at an OpenSSH private key, or move the file away to make a new one.") from None
    return key, created
