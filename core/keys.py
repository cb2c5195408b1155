"""`jumpdeck rotate-key`: re-encrypt every stored secret under a fresh key.

Order matters for crash safety: the new key is written beside the old one first
(`secret.key.new`), every token is re-encrypted in ONE store transaction, and only then
does the new key replace the old. A crash at any point leaves a key that opens every
token: `load_secret_box` reads both files while `.new` exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from jumpdeck.core import activity
from jumpdeck.core.errors import ConfigError
from jumpdeck.core.identity import Actor, Operation, require
from jumpdeck.core.secrets import KEY_ENV, SecretBox, commit_new_key, stage_new_key
from jumpdeck.core.settings import _load_row
from jumpdeck.core.store_key import CHECK_PLAINTEXT

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.context import Context


@dataclass(frozen=True)
class RotationResult:
    tokens: int
    key_path: str


async def rotate_key(ctx: Context, actor: Actor) -> RotationResult:
    require(actor, Operation.ROTATE_KEY)
    import os

    if os.environ.get(KEY_ENV):
        raise ConfigError(
            f"The key comes from {KEY_ENV}, so jumpdeck cannot replace it by itself.",
            remedy=f"Unset {KEY_ENV} to use the key file, or rotate by hand: decrypt with the old key and set the new one.",
        )
    from sqlalchemy import select

    from jumpdeck.core.store.models import ENCRYPTED_COLUMNS

    key_path = ctx.config.key_path
    new_key = stage_new_key(key_path)
    old_box = ctx.secrets
    new_box = SecretBox([new_key], source=str(key_path) + ".new")

    def reencrypt(session: Session) -> int:
        count = 0
        for model, column in ENCRYPTED_COLUMNS:
            for row in session.scalars(select(model)):
                token = getattr(row, column)
                if token:
                    setattr(row, column, new_box.encrypt(old_box.decrypt(token)))
                    count += 1
        # Notification targets hold tokens too, in the settings row's JSON.
        from jumpdeck.core.notify.config import reencrypt_in

        count += reencrypt_in(session, old_box, new_box)
        # The store's record of its key changes in the same transaction as its tokens.
        row = _load_row(session)
        row.key_id, row.key_check = new_box.key_id, new_box.encrypt(CHECK_PLAINTEXT)
        activity.record(session, actor, "ROTATE_KEY", "STORE", ctx.store.url_display, f"{count} secret(s) re-encrypted")
        return count

    try:
        count = await ctx.store.run(reencrypt)
    except BaseException:
        # Nothing was committed: drop the staged key so the old one stays the only one.
        key_path.with_name(key_path.name + ".new").unlink(missing_ok=True)
        raise
    commit_new_key(key_path)
    ctx.secrets = SecretBox([new_key], source=str(key_path))
    return RotationResult(count, str(key_path))
