"""Where and how to log in: typed, frozen descriptions of an SSH destination."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from jumpdeck.core.errors import ValidationError
from jumpdeck.core.secrets import Secret

# "stored": the pool's encrypted password for this host, filled in by core.ssh.stored
AuthKind = Literal["key", "agent", "password", "stored"]


@dataclass(frozen=True)
class SshAuth:
    """One way to authenticate. `password`/`passphrase` are `Secret`s, never plain str."""

    kind: AuthKind = "agent"
    key_file: Path | None = None
    passphrase: Secret | None = None
    password: Secret | None = None
    agent_path: str | None = None  # None = $SSH_AUTH_SOCK

    @classmethod
    def key(cls, path: str | Path, passphrase: Secret | None = None) -> "SshAuth":
        return cls(kind="key", key_file=Path(path).expanduser(), passphrase=passphrase)

    @classmethod
    def with_password(cls, password: Secret) -> "SshAuth":
        return cls(kind="password", password=password)

    @classmethod
    def stored(cls) -> "SshAuth":
        return cls(kind="stored")

    def describe(self) -> str:
        """For messages: says which method was tried, never the secret."""
        if self.kind == "key":
            return f"the key {self.key_file}"
        if self.kind == "password":
            return "a password"
        if self.kind == "stored":
            return "the stored password"
        return "the ssh-agent"


@dataclass(frozen=True)
class SshTarget:
    host: str
    user: str
    port: int = 22
    auth: SshAuth = field(default_factory=SshAuth)
    jump: "SshTarget | None" = None  # an optional bastion the connection goes through

    @property
    def label(self) -> str:
        """user@host, with :port only when it is not 22 (the tab label)."""
        base = f"{self.user}@{self.host}"
        return base if self.port == 22 else f"{base}:{self.port}"


def parse_destination(text: str, *, port: int | None = None, key_file: str | None = None,
                      default_user: str | None = None) -> SshTarget:
    """`[USER@]HOST` plus optional port and key, as `jumpdeck ssh` and the dialog take them."""
    text = text.strip()
    user, sep, host = text.rpartition("@")
    if not sep:
        user, host = "", text
    user = user or default_user or getpass.getuser()
    if not host or any(ch.isspace() for ch in host) or "/" in host:
        raise ValidationError(f"'{text}' is not a host: write HOST or USER@HOST.", field="host")
    if port is not None and not 1 <= port <= 65535:
        raise ValidationError(f"The port {port} is outside 1-65535.", field="port")
    auth = SshAuth.key(key_file) if key_file else SshAuth()
    return SshTarget(host=host, user=user, port=port or 22, auth=auth)
