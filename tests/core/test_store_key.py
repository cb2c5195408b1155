"""One key per store: a fresh store adopts the first key, every other key is refused
before anything is written, and the key travels between hosts only as a 0600 file."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from jumpdeck.core.config import load_config
from jumpdeck.core.errors import ConfigError
from jumpdeck.core.secrets import SecretBox, generate_key


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request, tmp_path):
    """One store that two 'hosts' (two homes) share: a SQLite file or a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return request.getfixturevalue("pg_temp_url")


def host(tmp_path, name: str, url: str):  # noqa: ANN201
    return load_config(cli={"home": str(tmp_path / name), "store_url": url})


def _activity_count(ctx) -> int:  # noqa: ANN001
    from sqlalchemy import func, select

    from jumpdeck.core.store.models import ActivityRow

    return ctx.store.run_sync(lambda s: s.scalar(select(func.count()).select_from(ActivityRow)))


async def test_a_second_host_with_its_own_key_is_refused_before_writing(tmp_path, shared_url) -> None:
    from jumpdeck.core.context import open_context

    a = await open_context(host(tmp_path, "a", shared_url), user="alice")
    before = _activity_count(a)
    b_config = host(tmp_path, "b", shared_url)
    b_config.key_path.parent.mkdir(parents=True, exist_ok=True)
    b_config.key_path.write_bytes(generate_key())
    with pytest.raises(ConfigError) as refused:
        await open_context(b_config, user="bob")
    message = str(refused.value)
    assert a.secrets.key_id in message and SecretBox([b_config.key_path.read_bytes()], "b").key_id in message
    assert "jumpdeck key import" in message
    assert _activity_count(a) == before  # bob was not even registered
    assert [u.name for u in await a.users.list(a.actor)] == ["alice"]
    a.close()


async def test_a_host_without_a_key_makes_none_and_imports_the_stores(tmp_path, shared_url) -> None:
    from jumpdeck.core.context import open_context
    from jumpdeck.core.store_key import export_key, import_key

    a = await open_context(host(tmp_path, "a", shared_url), user="alice")
    b_config = host(tmp_path, "b", shared_url)
    with pytest.raises(ConfigError, match="has no key for it yet"):
        await open_context(b_config, user="bob")
    assert not b_config.key_path.exists()

    with pytest.raises(ConfigError, match="is not the key of the store"):
        await import_key(b_config, generate_key().decode())
    assert not b_config.key_path.exists()

    exported = tmp_path / "a.key"
    export_key(a.secrets, exported)
    assert stat.S_IMODE(os.stat(exported).st_mode) == 0o600
    assert await import_key(b_config, exported.read_text()) == a.secrets.key_id
    assert stat.S_IMODE(os.stat(b_config.key_path).st_mode) == 0o600
    b = await open_context(b_config, user="bob")
    assert b.secrets.key_id == a.secrets.key_id
    a.close()
    b.close()


async def test_rotation_changes_the_stores_key_so_the_old_one_is_refused(tmp_path, shared_url) -> None:
    from jumpdeck.core.context import open_context
    from jumpdeck.core.keys import rotate_key
    from jumpdeck.core.store_key import export_key, import_key

    a = await open_context(host(tmp_path, "a", shared_url), user="alice")
    b_config = host(tmp_path, "b", shared_url)
    export_key(a.secrets, tmp_path / "a.key")
    await import_key(b_config, (tmp_path / "a.key").read_text())
    await rotate_key(a, a.actor)
    a.close()
    with pytest.raises(ConfigError, match="is encrypted with the key"):
        await open_context(b_config, user="bob")
    again = await open_context(host(tmp_path, "a", shared_url), user="alice")  # A holds the new key
    again.close()


def test_two_hosts_adopting_a_fresh_postgresql_store_at_once_have_one_winner(tmp_path, pg_temp_url) -> None:
    from jumpdeck.core.store.engine import open_store
    from jumpdeck.core.store_key import adopt_or_verify

    store = open_store(sqlite_path=tmp_path / "unused.db", store_url=pg_temp_url)
    boxes = [SecretBox([generate_key()], source=f"host {n}") for n in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def adopt(n: int) -> None:
        def go(session):  # noqa: ANN001, ANN202
            barrier.wait(timeout=10)
            return adopt_or_verify(session, boxes[n], "the test store")
        try:
            outcomes[n] = store.run_sync(go).key_id
        except ConfigError as exc:
            outcomes[n] = exc

    threads = [threading.Thread(target=adopt, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    store.close()
    winners = [o for o in outcomes if isinstance(o, str)]
    assert len(winners) == 1 and sum(isinstance(o, ConfigError) for o in outcomes) == 1, outcomes
    assert winners[0] in {b.key_id for b in boxes}


def test_a_bad_jumpdeck_key_stops_every_command_with_exit_2(tmp_path) -> None:
    from tests.tui.test_cli import jd

    for args in (["servers", "ls"], ["users", "ls"], ["check"]):
        out = jd(*args, home=tmp_path, env={"JUMPDECK_KEY": "not-a-fernet-key"})
        assert out.returncode == 2, (args, out.stderr)
        assert "is not a valid Fernet key" in out.stderr and "not-a-fernet-key" not in out.stderr


async def test_a_running_host_hears_of_a_rotation_and_stops_writing_under_the_old_key(tmp_path, shared_url) -> None:
    """B is open when A rotates: B's change feed hears the settings change; B cannot open
    the store's new record with its key, so `check_store_key` refuses with the sentence
    (the app then shows it and writes nothing more). A process on A's own host takes the
    new key from the rewritten key file, in place."""
    import asyncio

    from jumpdeck.core.context import open_context
    from jumpdeck.core.keys import rotate_key
    from jumpdeck.core.store_key import export_key, import_key

    a = await open_context(host(tmp_path, "a", shared_url), user="alice")
    a_again = await open_context(host(tmp_path, "a", shared_url), user="alice")  # a second process on host A
    b_config = host(tmp_path, "b", shared_url)
    export_key(a.secrets, tmp_path / "a.key")
    await import_key(b_config, (tmp_path / "a.key").read_text())
    b = await open_context(b_config, user="bob")
    heard = asyncio.Event()
    b.changes().subscribe({"settings"}, lambda _t: heard.set())
    await b.changes().started()
    old = b.secrets.key_id
    await rotate_key(a, a.actor)
    await asyncio.wait_for(heard.wait(), 15)
    with pytest.raises(ConfigError, match="is encrypted with the key"):
        await b.check_store_key()
    assert b.secrets.key_id == old
    await a_again.check_store_key()
    assert a_again.secrets.key_id == a.secrets.key_id != old
    for ctx in (a, a_again, b):
        ctx.close()
