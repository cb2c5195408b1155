"""Secrets stay put: with the key in JUMPDECK_KEY and a password in the store URL, a
real provisioning run over SSH (worker, ansible-playbook, its forks, ssh) has neither in
any process's environment or command line, and the run's directory and the whole home
hold neither afterwards."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from jumpdeck.core.child_env import child_environment, passes
from jumpdeck.core.provision.process import descendants
from tests.provision.conftest import add_vms, wait_status

PASSWORD = "Canary-pw-7d1f3e"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # the process ended meanwhile
        return b""


def test_the_allow_list_drops_secrets_and_keeps_what_a_program_needs() -> None:
    base = {"PATH": "/usr/bin", "HOME": "/root", "LANG": "C.UTF-8", "LC_ALL": "C", "TERM": "xterm",
            "JUMPDECK_KEY": "k", "JUMPDECK_STORE_URL": "postgresql://u:p@h/db", "JUMPDECK_SESSION_TOKEN": "t",
            "JUMPDECK_CHECK_TIMEOUT": "3", "JUMPDECK_HOME": "/h", "AWS_SECRET_ACCESS_KEY": "a",
            "PGPASSWORD": "p", "ANSIBLE_VAULT_PASSWORD_FILE": "/v", "MYSQL_PWD": "m", "SSH_CONNECTION": "x"}
    env = child_environment(base=base)
    assert env == {"PATH": "/usr/bin", "HOME": "/root", "LANG": "C.UTF-8", "LC_ALL": "C", "TERM": "xterm",
                   "JUMPDECK_CHECK_TIMEOUT": "3", "JUMPDECK_HOME": "/h"}
    assert not passes("JUMPDECK_KEY") and passes("JUMPDECK_LOG_LEVEL")
    with pytest.raises(ValueError):
        child_environment({"JUMPDECK_KEY": "k"}, base=base)


@pytest.fixture
async def secret_ctx(tmp_path, pg_temp_url, monkeypatch):
    """A context on a PostgreSQL store whose URL carries a password (trust ignores it)
    and whose key comes from JUMPDECK_KEY."""
    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.secrets import generate_key

    key = generate_key().decode()
    monkeypatch.setenv("JUMPDECK_KEY", key)
    url = pg_temp_url.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    monkeypatch.setenv("JUMPDECK_STORE_URL", url)
    config = load_config(cli={"home": str(tmp_path / "home")})
    assert config.store_url == url
    context = await open_context(config, user="admin")
    yield context, key
    context.close()


@pytest.mark.services
async def test_a_real_run_keeps_the_key_and_store_password_out_of_children_and_files(secret_ctx, tmp_path, sshd) -> None:
    from jumpdeck.core.provision.pool import Pool
    from jumpdeck.core.provision.service import ProvisionService
    from tests.provision.conftest import free_port_block, stop_services

    ctx, key = secret_ctx
    secrets = [key.encode(), PASSWORD.encode()]
    root = tmp_path / "targets"
    await ctx.settings.set(ctx.actor, {"provision_root": str(root), "provision_http_port": free_port_block(8),
                                       "provision_ssh_key": str(sshd.client_key)})
    ctx.config.known_hosts_path.write_text(sshd.known_hosts_line + "\n")
    svc, pool = ProvisionService(ctx.store, ctx.config, ctx.settings), Pool(ctx.store)
    await add_vms(pool, ctx.actor, 1, ip=sshd.host, port=sshd.port, user=sshd.user)
    info = await svc.start(ctx.actor, "single", "canary", runner="ansible", target="pool", options={"hold_seconds": 30})
    try:
        # Watch the run's whole tree until ssh to the VM is among it (the held task).
        seen: dict[int, str] = {}
        for _ in range(600):
            for pid in [info.worker_pid, *descendants(info.worker_pid)]:
                proc = Path(f"/proc/{pid}")
                cmdline, environ = _read(proc / "cmdline"), _read(proc / "environ")
                if cmdline:
                    seen[pid] = cmdline.replace(b"\0", b" ").decode(errors="replace")
                for secret in secrets:
                    assert secret not in environ, f"a secret is in the environment of {seen.get(pid)}"
                    assert secret not in cmdline, f"a secret is on the command line of {seen.get(pid)}"
            if any(c.startswith("ssh ") for c in seen.values()) and any("ansible-playbook" in c for c in seen.values()):
                break
            await asyncio.sleep(0.1)
        names = sorted({c.split()[0].rsplit("/", 1)[-1] for c in seen.values()})
        assert any(c.startswith("ssh ") for c in seen.values()), f"no ssh process seen in the run's tree: {names}"
        assert any("jumpdeck.core.provision.worker" in c for c in seen.values())
    finally:
        done = await svc.cancel(ctx.actor, info.id, wait=30)
        stop_services(root)
    assert done.status in ("CANCELED", "COMPLETED"), done.error
    run_dir = Path(info.artifact_dir)
    files = [p for p in ctx.config.home.rglob("*") if p.is_file()]
    assert any(p.is_relative_to(run_dir) and p.name == "command" for p in files), "the run left no artifacts to check"
    for path in files:
        data = _read(path)
        for secret in secrets:
            assert secret not in data, f"a secret is in {path.relative_to(ctx.config.home)}"
