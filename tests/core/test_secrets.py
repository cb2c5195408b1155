"""Secrets at rest: Fernet tokens, a 0600 key file, rotation, and no plaintext anywhere."""

import os
import stat

import pytest

from jumpdeck.core.errors import Conflict, JumpdeckError, SecretError
from jumpdeck.core.secrets import Secret, SecretBox, load_secret_box

PASSWORD = "Tr0ub4dor&3-jumpdeck-canary"


def test_key_file_is_created_private_and_reused(tmp_path) -> None:
    box = load_secret_box(tmp_path / "secret.key", env={})
    mode = stat.S_IMODE(os.stat(tmp_path / "secret.key").st_mode)
    assert mode == 0o600
    token = box.encrypt(Secret(PASSWORD))
    assert PASSWORD not in token
    assert load_secret_box(tmp_path / "secret.key", env={}).decrypt(token).reveal() == PASSWORD


def test_env_key_wins_and_a_wrong_key_gives_a_sentence(tmp_path) -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    box = load_secret_box(tmp_path / "k", env={"JUMPDECK_KEY": key})
    assert not (tmp_path / "k").exists()
    token = box.encrypt(PASSWORD)
    other = load_secret_box(tmp_path / "k2", env={})
    with pytest.raises(SecretError) as info:
        other.decrypt(token)
    assert PASSWORD not in str(info.value) and token not in str(info.value) and "JUMPDECK_KEY" in str(info.value)


def test_secret_never_prints() -> None:
    secret = Secret(PASSWORD)
    assert PASSWORD not in repr(secret) + str(secret) + f"{secret}" + repr([secret])
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)


async def _store_password_every_way(ctx) -> None:
    """Every path that takes a password today: server create, update, and a failed create."""
    from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec

    registry = ServerRegistry(ctx.store, ctx.secrets)
    spec = ServerSpec(name="canary", db_type="postgresql", host="127.0.0.1", username="u", password=Secret(PASSWORD))
    info = await registry.create(ctx.actor, spec)
    await registry.update(ctx.actor, info.id, ServerSpec(name="canary", db_type="postgresql", host="127.0.0.1",
                                                         username="u", password=Secret(PASSWORD + "-v2")))
    with pytest.raises(Conflict) as dup:
        await registry.create(ctx.actor, spec)
    assert PASSWORD not in str(dup.value)
    creds = await registry.credentials(ctx.actor, info.id)
    assert creds.password.reveal() == PASSWORD + "-v2" and PASSWORD not in repr(creds)

    def add_vm(session) -> None:
        from jumpdeck.core.store.models import WorkloadVmRow

        session.add(WorkloadVmRow(vm_name="vm1", ip_address="127.0.0.5", ssh_password_enc=ctx.secrets.encrypt(PASSWORD)))

    await ctx.store.run(add_vm)


def _files_under(root):
    for dirpath, _, names in os.walk(root):
        for name in names:
            yield os.path.join(dirpath, name)


async def test_no_plaintext_in_store_logs_activity_or_errors(ctx) -> None:
    await _store_password_every_way(ctx)
    page = await ctx.activity.page(ctx.actor, limit=1000)
    assert any("password changed" in e.detail for e in page.entries)
    for entry in page.entries:
        assert PASSWORD not in f"{entry}"
    ctx.store.engine.dispose()  # flush WAL pages through to files we read below
    for path in _files_under(ctx.config.home):
        data = open(path, "rb").read()
        assert PASSWORD.encode() not in data, f"plaintext password found in {path}"


async def test_rotate_key_reencrypts_everything(ctx) -> None:
    from jumpdeck.core.keys import rotate_key
    from jumpdeck.core.servers.registry import ServerRegistry

    await _store_password_every_way(ctx)
    old_key = ctx.config.key_path.read_bytes()
    result = await rotate_key(ctx, ctx.actor)
    assert result.tokens == 2
    assert ctx.config.key_path.read_bytes() != old_key
    assert not ctx.config.key_path.with_name("secret.key.new").exists()
    # A fresh process with only the new key file reads every password.
    fresh = load_secret_box(ctx.config.key_path, env={})
    registry = ServerRegistry(ctx.store, fresh)
    servers = await registry.list(ctx.actor)
    assert (await registry.credentials(ctx.actor, servers[0].id)).password.reveal() == PASSWORD + "-v2"
    old_box = SecretBox([old_key], source="old")
    from jumpdeck.core.store.models import ServerRow

    token = ctx.store.run_sync(lambda s: s.get(ServerRow, servers[0].id).password_enc)
    with pytest.raises(SecretError):
        old_box.decrypt(token)


async def test_rotation_interrupted_before_commit_keeps_old_key_working(ctx, monkeypatch) -> None:
    from jumpdeck.core import keys
    from jumpdeck.core.servers.registry import ServerRegistry

    await _store_password_every_way(ctx)

    def crash(_path):
        raise OSError("disk full")

    monkeypatch.setattr(keys, "commit_new_key", crash)
    with pytest.raises(OSError):
        await keys.rotate_key(ctx, ctx.actor)
    # The store was re-encrypted with the staged key; loading reads both files.
    assert ctx.config.key_path.with_name("secret.key.new").exists()
    box = load_secret_box(ctx.config.key_path, env={})
    registry = ServerRegistry(ctx.store, box)
    server = (await registry.list(ctx.actor))[0]
    assert (await registry.credentials(ctx.actor, server.id)).password.reveal() == PASSWORD + "-v2"


async def test_rotate_refuses_with_env_key(ctx, monkeypatch) -> None:
    from jumpdeck.core.keys import rotate_key

    monkeypatch.setenv("JUMPDECK_KEY", "x")
    with pytest.raises(JumpdeckError, match="JUMPDECK_KEY"):
        await rotate_key(ctx, ctx.actor)
