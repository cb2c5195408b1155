"""Importing an OpenSSH authorized_keys file: each key's comment names its user.

Keys of users that exist are attached to them; a name that does not exist yet becomes
a new active user with `role` (an admin runs the import, and so vouches for them).
Every change goes through `UserService`, so each is audited."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jumpdeck.core.errors import Conflict, NotFound, ValidationError
from jumpdeck.core.identity import Role

if TYPE_CHECKING:
    from jumpdeck.core.identity import Actor
    from jumpdeck.core.users import PublicKey, UserService


@dataclass(frozen=True)
class ImportedKey:
    line_no: int
    user: str
    fingerprint: str
    outcome: str  # "created user", "added", "already there", or why it was skipped


def _key_part(line: str) -> str:
    """Drop authorized_keys options (from=..., command=...) before the key type."""
    from jumpdeck.core.users import KEY_TYPES

    words = line.split()
    for index, word in enumerate(words):
        if word in KEY_TYPES:
            return " ".join(words[index:])
    return line


def parse_authorized_keys(text: str, *, source: str) -> list[tuple[int, PublicKey | None, str]]:
    """(line number, key or None, user name or the reason it was skipped)."""
    from jumpdeck.core.users import parse_public_key, validate_user_name

    out: list[tuple[int, PublicKey | None, str]] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            key = parse_public_key(_key_part(line), source=f"Line {line_no} of {source}")
            if not key.comment:
                raise ValidationError(f"Line {line_no} of {source} has no comment naming its user.", field="key")
            # "kim@laptop" names kim: the part before @ when it is there, the way
            # ssh-keygen writes comments.
            name = validate_user_name(key.comment.split()[0].split("@")[0])
        except ValidationError as error:
            out.append((line_no, None, str(error)))
            continue
        out.append((line_no, key, name))
    return out


async def import_authorized_keys(users: UserService, actor: Actor, path: Path, *, role: Role = Role.VIEWER) -> list[ImportedKey]:
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"Cannot read the authorized_keys file {path}: {exc.strerror}.", field="authorized_keys") from None
    results: list[ImportedKey] = []
    for line_no, key, name in parse_authorized_keys(text, source=str(path)):
        if key is None:
            results.append(ImportedKey(line_no, "", "", f"skipped: {name}"))
            continue
        owner = await users.find_by_fingerprint(key.fingerprint)
        if owner is not None:
            note = "already there" if owner.name == name else f"skipped: the key already belongs to '{owner.name}'"
            results.append(ImportedKey(line_no, name, key.fingerprint, note))
            continue
        try:
            await users.add_key(actor, name, key)
            results.append(ImportedKey(line_no, name, key.fingerprint, "added"))
        except NotFound:
            await users.add(actor, name, role, [key])
            results.append(ImportedKey(line_no, name, key.fingerprint, f"created user ({role.value})"))
        except Conflict as error:
            results.append(ImportedKey(line_no, name, key.fingerprint, f"skipped: {error}"))
    return results
