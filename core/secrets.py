"""Encryption at rest for DB and SSH passwords.

Passwords are stored as Fernet tokens. The key comes from `JUMPDECK_KEY` or from a key
file created 0600 on first run. Plaintext lives only in `Secret` objects, whose repr and
str never show it, so an accidental log line or f-string cannot leak it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from jumpdeck.core.errors import ConfigError, SecretError

KEY_ENV = "JUMPDECK_KEY"


class TokenError(SecretError):
    """One stored token that the key cannot open, while the key itself is valid. Apart
    from a bad key (which concerns every password), so a caller can fail one server only."""


class Secret:
    """A plaintext secret that refuses to be printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self):  # pickling would write the plaintext somewhere: refuse.
        raise TypeError("Secret objects cannot be pickled")


def _write_private(path: Path, data: bytes) -> None:
    """Create `path` with mode 0600 from the first byte on (no window where it is readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


@dataclass
class SecretBox:
    """Encrypts and decrypts secrets with the installation's key(s).

    `keys[0]` encrypts; every key decrypts. A second key exists only while a rotation is
    being finished (see `rotate`), so a crash mid-rotation never strands a password.
    """

    keys: list[bytes]
    source: str  # "env" or the key file's path, for messages; never the key itself

    def _fernet(self):
        from cryptography.fernet import Fernet, MultiFernet

        try:
            return MultiFernet([Fernet(key) for key in self.keys])
        except (ValueError, TypeError):
            raise ConfigError(
                f"The encryption key from {self.source} is not a valid Fernet key.",
                remedy="It must be 32 url-safe base64-encoded bytes, as `jumpdeck rotate-key` writes.",
            ) from None

    @property
    def from_environment(self) -> bool:
        """Whether the key came from JUMPDECK_KEY rather than a key file."""
        return self.source == f"the environment variable {KEY_ENV}"

    @property
    def key_id(self) -> str:
        """The fingerprint of the key that encrypts: SHA-256 of the key, which names it
        without revealing it (the key is 32 random bytes)."""
        import hashlib

        return "SHA256:" + hashlib.sha256(self.keys[0]).hexdigest()[:32]

    def check_usable(self) -> None:
        """Raise now, with a sentence, if a key is not a Fernet key (instead of on first use)."""
        self._fernet()

    def encrypt(self, secret: Secret | str) -> str:
        plaintext = secret.reveal() if isinstance(secret, Secret) else secret
        return self._fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> Secret:
        from cryptography.fernet import InvalidToken

        fernet = self._fernet()  # a bad key raises SecretError here, for every token alike
        try:
            return Secret(fernet.decrypt(token.encode("ascii")).decode("utf-8"))
        except (InvalidToken, ValueError, UnicodeError):
            raise TokenError(
                f"A stored password cannot be decrypted with the key from {self.source}.",
                remedy="The key changed or the store came from another installation: set JUMPDECK_KEY to the "
                "key that encrypted it, or re-enter the password.",
            ) from None


def generate_key() -> bytes:
    from cryptography.fernet import Fernet

    return Fernet.generate_key()


def load_secret_box(key_path: Path, env: Mapping[str, str] | None = None) -> SecretBox:
    """The key from JUMPDECK_KEY, else the key file, created 0600 when missing."""
    env = os.environ if env is None else env
    if env.get(KEY_ENV):
        return SecretBox([env[KEY_ENV].strip().encode("ascii")], source=f"the environment variable {KEY_ENV}")
    pending = key_path.with_name(key_path.name + ".new")
    try:
        if not key_path.exists():
            if pending.exists():  # a rotation crashed after writing the new key only
                os.replace(pending, key_path)
            else:
                _write_private(key_path, generate_key())
        keys = [_read_key_file(key_path)]
        if pending.exists():
            # A rotation stopped between commit and rename: the new key may already be in use.
            keys.insert(0, _read_key_file(pending))
    except OSError as exc:
        # Never the key: only which file and what the system said.
        raise ConfigError(f"The key file {key_path} cannot be read or created ({exc.strerror}).",
                          remedy="Check its owner and permissions (it should be a 0600 file of this user), "
                                 f"or set {KEY_ENV}.") from None
    return SecretBox(keys, source=str(key_path))


def _read_key_file(path: Path) -> bytes:
    if path.is_dir():
        raise ConfigError(f"The key file {path} is a directory, so jumpdeck has no key to open its secrets with.",
                          remedy="Move that directory away and put the key file back (`jumpdeck key import FILE`), "
                                 f"or set {KEY_ENV}.")
    return path.read_bytes().strip()


def stage_new_key(key_path: Path) -> bytes:
    """Write a new key beside the current one (`secret.key.new`) before re-encrypting."""
    key = generate_key()
    _write_private(key_path.with_name(key_path.name + ".new"), key)
    return key


def commit_new_key(key_path: Path) -> None:
    """After the store was re-encrypted, the staged key becomes the key."""
    os.replace(key_path.with_name(key_path.name + ".new"), key_path)
