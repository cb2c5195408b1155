"""AnsibleRunner for real: the template playbooks run by ansible-runner against this
machine (connection local) and against a throw-away OpenSSH sshd on a loopback port."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from jumpdeck.core.provision.process import descendants
from tests.provision.conftest import add_vms, wait_status

pytestmark = pytest.mark.services


async def test_local_standard_run_completes_with_real_work(ctx, prov) -> None:
    svc, pool, root = prov
    await add_vms(pool, ctx.actor, 3)
    info = await svc.start(ctx.actor, "standard", "shop", packages=["nginx"], runner="ansible", target="local")
    events = [e async for batch in svc.follow(ctx.actor, info.id) for e in batch]
    done = await svc.get(ctx.actor, info.id)
    assert done.status == "COMPLETED", (done.error, [e.text for e in events][-20:])
    results = {e.result for e in events if e.kind == "line"}
    assert {"ok", "changed", "skipped"} <= results
    assert [e.step for e in events if e.kind == "step"] == list(range(1, 8))
    assert sorted(e.host for e in events if e.kind == "recap") == ["app-1", "db-1", "web-1"]
    for host in ("web-1", "app-1", "db-1"):
        marker = json.loads((root / "shop" / host / "deployed.json").read_text())
        assert marker["service"] == "shop" and marker["run_id"] == info.id and marker["packages"] == ["nginx"]
    assert "server =" in (root / "shop" / "web-1" / "etc" / "web.conf").read_text()
    assert "role = primary" in (root / "shop" / "db-1" / "etc" / "db.conf").read_text()
    # The service it started answers at the URL recorded in the resources.
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    body = opener.open(done.resources["web_url"] + "health.txt", timeout=5).read().decode()
    assert body.startswith("ok shop web")
    assert {v.status for v in await pool.list(ctx.actor)} == {"assigned"}
    # Tearing down stops the services, removes what was deployed and frees the VMs. It
    # runs ansible-playbook from this process, whose PATH stays as it was.
    path = os.environ["PATH"]
    await svc.teardown(ctx.actor, info.id)
    assert os.environ["PATH"] == path
    assert not (root / "shop").joinpath("web-1").exists()
    with pytest.raises(OSError):
        opener.open(done.resources["web_url"] + "health.txt", timeout=5)
    assert {v.status for v in await pool.list(ctx.actor)} == {"available"}
    log = [e.text for e in await svc.events(ctx.actor, info.id)]
    assert any("Stop the service" in t for t in log)


async def test_failing_task_fails_the_run_and_frees_vms(ctx, prov) -> None:
    svc, pool, _ = prov
    await add_vms(pool, ctx.actor, 1)
    info = await svc.start(ctx.actor, "single", "broken", runner="ansible", target="local", options={"fail_step": 3})
    done = await wait_status(svc, ctx.actor, info.id)
    assert done.status == "FAILED"
    assert "Injected failure in step 3 on app-1" in done.error and "app-1" in done.error
    events = await svc.events(ctx.actor, info.id)
    assert any(e.result == "failed" and e.host == "app-1" for e in events)
    assert [(v.status, v.run_id) for v in await pool.list(ctx.actor)] == [("available", None)]


async def test_cancel_mid_run_kills_the_whole_tree(ctx, prov) -> None:
    svc, pool, _ = prov
    await add_vms(pool, ctx.actor, 1)
    info = await svc.start(ctx.actor, "single", "held", runner="ansible", target="local", options={"hold_seconds": 300})
    # Wait until the long task is really running on the host.
    for _ in range(300):
        events = await svc.events(ctx.actor, info.id)
        if any("Hold the host" in e.text for e in events):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the hold task never started")
    # The task's event comes before ansible has spawned its command; under load that takes
    # seconds. Look in this run's own tree only (other suites may run the same playbook).
    for _ in range(300):
        tree = descendants(info.worker_pid)
        sleepers = [p for p in tree if "sleep 300" in _cmd(p)]
        if sleepers:
            break
        await asyncio.sleep(0.1)
    assert sleepers, "the held task's sleep never appeared under the run's worker"
    done = await svc.cancel(ctx.actor, info.id, wait=30)
    assert done.status == "CANCELED"
    assert [v.status for v in await pool.list(ctx.actor)] == ["available"]
    await asyncio.sleep(0.5)
    assert not [p for p in tree if p in _all_pids() and "sleep 300" in _cmd(p)]


def _cmd(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


async def test_over_ssh_with_known_host_key(ctx, prov, sshd) -> None:
    svc, pool, root = prov
    ctx.config.known_hosts_path.write_text(sshd.known_hosts_line + "\n")
    await ctx.settings.set(ctx.actor, {"provision_ssh_key": str(sshd.client_key)})
    await add_vms(pool, ctx.actor, 1, ip=sshd.host, port=sshd.port, user=sshd.user)
    info = await svc.start(ctx.actor, "single", "over-ssh", runner="ansible", target="pool")
    done = await wait_status(svc, ctx.actor, info.id)
    assert done.status == "COMPLETED", done.error
    assert (root / "over-ssh" / "app-1" / "deployed.json").exists()
    assert done.resources["ssh_targets"] == [{"name": "app-1", "host": "127.0.0.1", "port": sshd.port, "user": sshd.user}]


async def test_unknown_host_key_fails_at_once_naming_host_and_fingerprint(ctx, prov, sshd) -> None:
    svc, pool, _ = prov
    ctx.config.known_hosts_path.write_text("")
    await ctx.settings.set(ctx.actor, {"provision_ssh_key": str(sshd.client_key)})
    await add_vms(pool, ctx.actor, 1, ip=sshd.host, port=sshd.port, user=sshd.user)
    info = await svc.start(ctx.actor, "single", "stranger", runner="ansible", target="pool")
    done = await wait_status(svc, ctx.actor, info.id, timeout=60)
    assert done.status == "FAILED"
    expected_fp = subprocess.run(["ssh-keygen", "-lf", str(sshd.workdir / "host_ed25519.pub")],
                                 capture_output=True, text=True).stdout.split()[1]
    assert f"{sshd.host}:{sshd.port}" in done.error and expected_fp in done.error
    assert [v.status for v in await pool.list(ctx.actor)] == ["available"]


async def test_second_process_reattaches_after_the_first_is_killed(ctx, prov, config) -> None:
    """Process A starts and follows a run; A is SIGKILLed mid-run; the run goes on;
    process B re-attaches, replays what it missed and sees the end."""
    svc, pool, root = prov
    await add_vms(pool, ctx.actor, 1)
    from jumpdeck.core.identity import Role
    from tests.conftest import os_user

    await ctx.users.add(ctx.actor, os_user(), Role.ADMIN)  # who the CLI processes below are
    env = dict(os.environ, JUMPDECK_HOME=str(config.home))
    cli = [str(Path(sys.executable).parent / "jumpdeck")]
    a = subprocess.Popen(cli + ["provision", "start", "single", "--name", "durable", "--runner", "ansible",
                                "--target", "local", "--option", "hold_seconds=4", "--follow"],
                         env=env, stdout=subprocess.PIPE, text=True)
    run_id = int(a.stdout.readline().strip())
    seen_by_a = []
    while True:
        line = a.stdout.readline()
        seen_by_a.append(line)
        if "Hold the host" in line:
            break
    a.send_signal(signal.SIGKILL)
    a.wait(timeout=10)
    assert (await svc.get(ctx.actor, run_id)).status == "RUNNING"
    b = subprocess.run(cli + ["provision", "logs", str(run_id), "--follow"], env=env, capture_output=True, text=True, timeout=120)
    assert b.returncode == 0, b.stderr
    assert "::: run is COMPLETED" in b.stdout
    assert "PLAY RECAP" in b.stdout
    # B replayed from the start, including what A had already shown.
    assert "::: step 1 done: Allocate IP" in b.stdout and "Hold the host" in b.stdout
    assert (await svc.get(ctx.actor, run_id)).status == "COMPLETED"


async def test_trusting_the_refused_key_lets_the_next_run_through(ctx, prov, sshd) -> None:
    from jumpdeck.core.provision import hostkeys

    svc, pool, _ = prov
    ctx.config.known_hosts_path.write_text("")
    await ctx.settings.set(ctx.actor, {"provision_ssh_key": str(sshd.client_key)})
    await add_vms(pool, ctx.actor, 1, ip=sshd.host, port=sshd.port, user=sshd.user)
    first = await wait_status(svc, ctx.actor, (await svc.start(ctx.actor, "single", "try-one", runner="ansible")).id)
    assert first.status == "FAILED"
    where = hostkeys.refused_host(first.error)
    assert where == (sshd.host, sshd.port)
    key = hostkeys.scan(*where)
    assert key.fingerprint in first.error
    with pytest.raises(Exception):
        hostkeys.trust(ctx.config.known_hosts_path, key, expected_fingerprint="SHA256:somethingelse")
    hostkeys.trust(ctx.config.known_hosts_path, key, expected_fingerprint=key.fingerprint)
    second = await wait_status(svc, ctx.actor, (await svc.start(ctx.actor, "single", "try-two", runner="ansible")).id)
    assert second.status == "COMPLETED", second.error
