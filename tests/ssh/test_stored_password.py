"""SSH with the pool's stored (encrypted) password: the scope rule in core, and a real
password login through Debian's sshd as a throw-away system user, with a canary
password that must never reach the screen, the activity log, a log file or an error."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from jumpdeck.core.errors import PermissionDenied
from jumpdeck.core.identity import Actor, Role
from jumpdeck.core.provision.pool import Pool
from jumpdeck.core.secrets import Secret
from jumpdeck.core.ssh import SshAuth, SshAuthFailed, SshTarget
from jumpdeck.core.ssh.stored import with_stored_password
from tests.conftest import service_unavailable
from tests.ssh.test_ssh_screen import make_app, ssh_screen
from tests.ssh.test_terminal_widget import screen_text, wait_for


async def test_password_is_encrypted_at_rest_and_handed_out_by_scope(ctx):
    pool = Pool(ctx.store, ctx.secrets)
    canary = "cnry-" + secrets.token_hex(6)
    await pool.add(ctx.actor, "VM-A", "10.9.0.1", ssh_user="deploy", ssh_password=Secret(canary))
    await pool.add(ctx.actor, "VM-B", "10.9.0.2", ssh_user="deploy")

    from sqlalchemy import select

    from jumpdeck.core.store.models import WorkloadVmRow

    token = await ctx.store.run(lambda s: s.scalar(select(WorkloadVmRow.ssh_password_enc)
                                                   .where(WorkloadVmRow.vm_name == "VM-A")))
    assert token and canary not in token and ctx.secrets.decrypt(token).reveal() == canary

    # An admin gets it; the use is audited without the value.
    login = await pool.ssh_login(ctx.actor, "10.9.0.1")
    assert login is not None and login.password.reveal() == canary and login.ssh_user == "deploy"
    # An operator who does not hold the VM does not.
    stranger = Actor("oper", Role.OPERATOR)
    with pytest.raises(PermissionDenied, match="VM-A"):
        await pool.ssh_login(stranger, "10.9.0.1")
    # The launchers' default (agent) falls back with a note; an explicit "stored" is refused.
    plain = SshTarget(host="10.9.0.1", user="someone")
    resolved = await with_stored_password(pool, stranger, plain)
    assert resolved.target.auth.kind == "agent" and "ssh-agent" in resolved.note
    with pytest.raises(PermissionDenied):
        await with_stored_password(pool, stranger, SshTarget(host="10.9.0.1", user="x", auth=SshAuth.stored()))
    # The occupant of the VM gets it.
    await ctx.store.run(lambda s: s.execute(
        WorkloadVmRow.__table__.update().where(WorkloadVmRow.vm_name == "VM-A").values(occupy_user="oper")))
    resolved = await with_stored_password(pool, stranger, plain)
    assert resolved.target.auth.kind == "password" and resolved.target.user == "deploy"
    # No password stored: agent stays; explicit "stored" is a sentence.
    assert (await with_stored_password(pool, ctx.actor, SshTarget(host="10.9.0.2", user="u"))).target.auth.kind == "agent"
    with pytest.raises(SshAuthFailed, match="No SSH password is stored for 10.9.0.2"):
        await with_stored_password(pool, ctx.actor, SshTarget(host="10.9.0.2", user="u", auth=SshAuth.stored()))

    page = await ctx.activity.page(ctx.actor)
    actions = [e.action for e in page.entries]
    assert "POOL_PASSWORD_USE" in actions
    assert all(canary not in f"{e.detail} {e.target_id}" for e in page.entries)


@pytest.fixture
def password_user():
    """A throw-away system user with a random password (needs root: useradd, chpasswd)."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        service_unavailable("creating a throw-away login user needs root and useradd")
    name = "jdpw" + secrets.token_hex(3)
    password = "cnry-" + secrets.token_hex(8)
    subprocess.run(["useradd", "-M", "-d", "/tmp", "-s", "/bin/sh", name], check=True)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
    try:
        yield name, password
    finally:
        subprocess.run(["userdel", name], check=False)


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_stored_password_logs_in_and_never_leaks(config, password_user, tmp_path):
    from tests.fixtures.sshd import start_sshd, stop_sshd

    user, canary = password_user
    info = start_sshd(tmp_path / "pw-sshd", password_auth=True)
    try:
        config.known_hosts_path.parent.mkdir(parents=True, exist_ok=True)
        config.known_hosts_path.write_text(info.known_hosts_line + "\n")
        app = make_app(config)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await ssh_screen(pilot)
            pool = Pool(app.ctx.store, app.ctx.secrets)
            await pool.add(app.ctx.actor, "PW-VM", "127.0.0.1", ssh_user=user, ssh_port=info.port,
                           ssh_password=Secret(canary))

            # A launcher's plain target (as from the Monitor or a run): the store's password is used.
            pane = await screen.open_session(SshTarget(host="127.0.0.1", user=user, port=info.port))
            await wait_for(pilot, lambda: pane.state == "live", 15)
            await pilot.press(*"echo in-as-$(whoami)", "enter")
            await wait_for(pilot, lambda: f"\nin-as-{user}" in screen_text(pane.terminal))
            assert canary not in screen_text(pane.terminal)
            assert canary not in app.export_screenshot()

            # A wrong stored password: the auth sentence, without either password.
            wrong = "cnry-" + secrets.token_hex(8)
            await pool.set_password(app.ctx.actor, "PW-VM", Secret(wrong))
            bad = await screen.open_session(SshTarget(host="127.0.0.1", user=user, port=info.port,
                                                      auth=SshAuth.stored()))
            await wait_for(pilot, lambda: bad.state == "failed", 15)
            assert f"refused the login of {user} with a password" in (bad.error or "")
            for text in (bad.error or "", screen_text(bad.terminal), app.export_screenshot()):
                assert canary not in text and wrong not in text

            page = await app.ctx.activity.page(app.ctx.actor, limit=200)
            rows = " ".join(f"{e.action} {e.target_id} {e.detail}" for e in page.entries)
            assert "POOL_PASSWORD_USE" in rows and "SSH_OPEN" in rows
            assert canary not in rows and wrong not in rows
        # Nothing jumpdeck wrote (store, logs, known_hosts, key file) holds either in clear.
        for needle in (canary, wrong):
            assert _files_containing(config.home, needle.encode()) == []
    finally:
        stop_sshd(info)
