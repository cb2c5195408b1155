"""Fixtures of the provisioning tests: a provisioning service over the test context,
a loopback VM pool, and cleanup of every service a playbook started."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import pytest

from tests.fixtures.sshd import sshd, sshd_module  # noqa: F401  (fixtures)


def free_port_block(size: int) -> int:
    """A base port with `size` free ports after it (checked, not reserved)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + size >= 65535:
            continue
        ok = True
        for port in range(base, base + size):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port block")


def stop_services(root: Path) -> None:
    for pidfile in root.glob("*/*/run/http.pid"):
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        except (ValueError, ProcessLookupError, PermissionError):
            pass


@pytest.fixture
async def prov(ctx, tmp_path):
    """(service, pool, root dir) with settings pointing playbooks at a temp root."""
    from jumpdeck.core.provision.pool import Pool
    from jumpdeck.core.provision.service import ProvisionService

    root = tmp_path / "targets"
    await ctx.settings.set(ctx.actor, {"provision_root": str(root), "provision_http_port": free_port_block(8),
                                       "max_concurrent_runs": 50})
    svc = ProvisionService(ctx.store, ctx.config, ctx.settings)
    yield svc, Pool(ctx.store), root
    # Nothing a test started may outlive it.
    for run in await svc.list(ctx.actor):
        if run.status in ("PENDING", "RUNNING"):
            try:
                await svc.cancel(ctx.actor, run.id, wait=15)
            except Exception:
                pass
    stop_services(root)


async def add_vms(pool, actor, count: int, *, ip: str = "127.0.0.1", port: int = 22, user: str = "root", prefix: str = "vm"):  # noqa: ANN001
    for i in range(count):
        await pool.add(actor, f"{prefix}{i:02d}", ip, ssh_port=port, ssh_user=user)


async def wait_status(svc, actor, run_id: int, timeout: float = 180.0):  # noqa: ANN001
    """A deadline for a stuck run, not a speed check: a loaded 2-core machine runs the
    over-SSH playbooks several times slower than an idle one."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        info = await svc.get(actor, run_id)
        if info.status in ("COMPLETED", "FAILED", "CANCELED"):
            return info
        await asyncio.sleep(0.2)
    raise AssertionError(f"run {run_id} still {info.status} after {timeout} s")
