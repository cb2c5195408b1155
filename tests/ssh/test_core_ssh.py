"""jumpdeck.core.ssh against a real sshd: host keys, auth errors, a PTY shell."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess

import pytest

from jumpdeck.core.secrets import Secret
from jumpdeck.core.ssh import (
    HostKeyMismatch, HostKeyUnknown, SshAuth, SshAuthFailed, SshConnectionRefused, SshKeyFileError,
    SshNameNotResolved, SshTarget, SshTimeout, connect, parse_destination, translate, trust_host_key,
)
from tests.fixtures.sshd import free_port
from tests.ssh.conftest import target_for


async def collect_until(term, needle: bytes, limit: float = 10.0) -> bytes:
    seen = b""

    async def read():
        nonlocal seen
        async for chunk in term.output():
            seen += chunk
            if needle in seen:
                return

    await asyncio.wait_for(read(), limit)
    return seen


@contextlib.asynccontextmanager
async def shell(target, policy, cols: int = 80, rows: int = 24):
    """A PTY shell on `target`; the connection is closed afterwards, whatever happened."""
    conn = await connect(target, policy)
    try:
        yield await conn.open_terminal(cols, rows)
    finally:
        conn.close()


async def test_unknown_host_needs_confirmation_then_is_stored(policy, sshd_module):
    target = target_for(sshd_module)
    with pytest.raises(HostKeyUnknown) as caught:
        await connect(target, policy)
    offer = caught.value.offer
    expected = subprocess.run(["ssh-keygen", "-lf", str(sshd_module.workdir / "host_ed25519.pub")],
                              capture_output=True, text=True, check=True).stdout.split()[1]
    assert offer.fingerprint == expected
    assert offer.fingerprint in str(caught.value)
    assert not policy.store.exists()  # nothing stored without the operator's word

    trust_host_key(offer, policy.store)
    assert policy.store.read_text().strip() == sshd_module.known_hosts_line
    assert policy.store.stat().st_mode & 0o077 == 0
    conn = await connect(target, policy)
    conn.close()


async def test_key_in_users_known_hosts_is_trusted(policy, sshd_module):
    policy.user_files[0].write_text(sshd_module.known_hosts_line + "\n")
    conn = await connect(target_for(sshd_module), policy)
    conn.close()
    assert not policy.store.exists()


async def test_changed_host_key_is_refused_with_mitm_warning(policy, sshd_module, tmp_path):
    other = tmp_path / "other_host"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    fake = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    policy.store.write_text(f"[127.0.0.1]:{sshd_module.port} {fake}\n")
    before = policy.store.read_text()
    with pytest.raises(HostKeyMismatch) as caught:
        await connect(target_for(sshd_module), policy)
    text = str(caught.value)
    assert "man-in-the-middle" in text and "changed" in text
    assert str(policy.store) in text
    assert policy.store.read_text() == before  # never auto-accepted


async def test_wrong_key_is_an_auth_sentence(trusted, sshd_module, tmp_path):
    wrong = tmp_path / "wrong"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)], check=True)
    with pytest.raises(SshAuthFailed) as caught:
        await connect(target_for(sshd_module, auth=SshAuth.key(wrong)), trusted)
    assert str(caught.value).startswith(f"127.0.0.1 port {sshd_module.port} refused the login of {sshd_module.user}")


async def test_wrong_password_is_an_auth_sentence_without_the_password(tmp_path, policy):
    from tests.fixtures.sshd import start_sshd, stop_sshd

    info = start_sshd(tmp_path / "pw", password_auth=True)
    try:
        policy.store.write_text(info.known_hosts_line + "\n")
        with pytest.raises(SshAuthFailed) as caught:
            await connect(target_for(info, auth=SshAuth.with_password(Secret("hunter2-wrong"))), policy)
        assert "a password" in str(caught.value)
        assert "hunter2" not in str(caught.value) and "hunter2" not in repr(caught.value.args)
    finally:
        stop_sshd(info)


async def test_missing_key_file(trusted, sshd_module, tmp_path):
    with pytest.raises(SshKeyFileError, match="does not exist"):
        await connect(target_for(sshd_module, auth=SshAuth.key(tmp_path / "nope")), trusted)


async def test_refused_port(policy):
    target = SshTarget(host="127.0.0.1", port=free_port(), user="root")
    with pytest.raises(SshConnectionRefused, match="refused the connection"):
        await connect(target, policy)


async def test_silent_server_times_out(policy):
    with socket.socket() as silent:  # accepts TCP (backlog) but never sends an SSH banner
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        target = SshTarget(host="127.0.0.1", port=silent.getsockname()[1], user="root")
        with pytest.raises(SshTimeout, match="did not answer in time"):
            await connect(target, policy, timeout=0.5)


def test_unresolved_name_sentence():
    # Built from the exception getaddrinfo raises: a real lookup would leave loopback.
    error = translate(socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
                      SshTarget(host="db-17.example", user="ops"))
    assert isinstance(error, SshNameNotResolved)
    assert str(error).startswith("The name db-17.example could not be resolved.")


def test_parse_destination():
    t = parse_destination("ops@10.0.0.5", port=2222, key_file="~/k")
    assert (t.user, t.host, t.port, t.auth.kind) == ("ops", "10.0.0.5", 2222, "key")
    assert t.label == "ops@10.0.0.5:2222"
    assert parse_destination("h", default_user="me").label == "me@h"


async def test_pty_shell_echo_resize_exit(trusted, sshd_module):
    async with shell(target_for(sshd_module), trusted, 100, 30) as term:
        term.write("stty size; echo $TERM\n")
        seen = await collect_until(term, b"xterm-256color\r\n")
        assert b"30 100" in seen
        term.resize(132, 43)
        term.write("stty size\n")
        assert b"43 132" in await collect_until(term, b"43 132")
        term.write("exit 7\n")
        assert await asyncio.wait_for(term.wait_closed(), 10) == 7
        assert not term.is_open


async def test_jump_host(trusted, sshd_module):
    """Through a bastion (the same sshd, which permits TCP forwarding by default)."""
    bastion = target_for(sshd_module)
    async with shell(target_for(sshd_module, jump=bastion), trusted) as term:
        term.write("echo via-jump\n")
        await collect_until(term, b"via-jump\r\n")


async def test_pty_shell_speaks_utf8_whatever_jumpdecks_locale(trusted_locale, sshd_locale, monkeypatch):
    """jumpdeck under systemd or cron may run in POSIX: its terminal still speaks UTF-8,
    and the remote shell and PTY are told so (core/ssh/terminal_locale.py)."""
    monkeypatch.delenv("LANG", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)
    monkeypatch.setenv("LC_ALL", "POSIX")
    monkeypatch.setenv("LC_TOKEN", "not-a-locale-kept-here")
    async with shell(target_for(sshd_locale), trusted_locale) as term:
        term.write("echo charmap=$(locale charmap) token=${LC_TOKEN:-none}; stty -a | grep -o -- '-\\?iutf8'\n")
        seen = await collect_until(term, b"iutf8\r\n")
        assert b"charmap=UTF-8 token=none\r\n" in seen
        assert b"\r\niutf8\r\n" in seen
