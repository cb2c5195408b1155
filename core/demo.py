"""The embedded demo (`jumpdeck --demo`): its own SQLite store in `<data dir>/demo`,
seeded once with sample servers, users, runs and a VM pool. It never touches the
operator's real store (`load_config(demo=True)` moves `home` and drops `store_url`).

Every sample host is on loopback: the demo's checks must never send traffic elsewhere.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jumpdeck.core.config import Config
from jumpdeck.core.private_files import private_dir, write_private_text

if TYPE_CHECKING:
    from jumpdeck.core.context import Context

DEMO_MARKER = ".demo-seeded"


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


async def ensure_demo(config: Config, *, user: str | None = None) -> bool:
    """Seed the demo data dir if it is new. Returns True when it seeded."""
    import asyncio
    import fcntl
    import os

    marker = config.home / DEMO_MARKER
    if marker.exists():
        return False
    from jumpdeck.core.context import open_context

    # Two `jumpdeck --demo` starting at once on a new demo dir: one seeds, the other
    # waits for it and then finds the marker (else it would add the same servers again).
    private_dir(config.home)
    fd = os.open(config.home / ".demo-seed.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        if marker.exists():
            return False
        ctx = await open_context(config, user=user)
        try:
            await seed_demo(ctx)
        finally:
            ctx.close()
        write_private_text(marker, "seeded\n")
        return True
    finally:
        os.close(fd)  # drops the lock


async def seed_demo(ctx: Context) -> None:
    from jumpdeck.core.identity import Role
    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec

    actor = ctx.actor
    registry = ServerRegistry(ctx.store, ctx.secrets)
    import asyncio

    samples = []
    # Real local servers when they answer, so the demo shows live greens. The probes block,
    # so they run in threads: the app seeds the demo from a worker on its event loop.
    # Their accounts have no password (trust, an empty root password), registered as such.
    pg_up, mysql_up = await asyncio.gather(asyncio.to_thread(_port_open, 5432), asyncio.to_thread(_port_open, 3306))
    if pg_up:
        samples.append(ServerSpec(name="local-postgres", db_type="postgresql", host="127.0.0.1", username="postgres",
                                  no_password=True, description="PostgreSQL on this machine", tags=("dev",)))
    if mysql_up:
        samples.append(ServerSpec(name="local-mariadb", db_type="mysql", host="127.0.0.1", username="root",
                                  no_password=True, description="MariaDB on this machine", tags=("dev",)))
    # Loopback ports where nothing listens: honest failures without touching any network.
    samples += [
        ServerSpec(name="erp-prod", db_type="mssql", host="127.0.0.1", port=14330, username="sa",
                   password=Secret("demo-erp"), description="ERP production (demo: nothing listens)", tags=("prod", "erp"),
                   group="production"),
        ServerSpec(name="mes-oracle", db_type="oracle", host="127.0.0.1", port=15210, default_db="ORCL",
                   username="system", password=Secret("demo-mes"), description="MES on Oracle (demo)", tags=("prod",),
                   group="production"),
        ServerSpec(name="analytics-pg", db_type="postgresql", host="127.0.0.1", port=15432, username="report",
                   password=Secret("demo-report"), description="Reporting replica (demo)", tags=("staging",),
                   group="staging"),
        ServerSpec(name="shop-mysql", db_type="mysql", host="127.0.0.1", port=13306, username="shop",
                   password=Secret("demo-shop"), description="Web shop (demo)", tags=("prod",), group="production"),
    ]
    for spec in samples:
        await registry.create(actor, spec)

    await ctx.users.add(actor, "kim.operator", Role.OPERATOR)
    await ctx.users.add(actor, "lee.viewer", Role.VIEWER)
    await ctx.settings.set(actor, {"system_notice": "Demo data: nothing here touches a real system."})

    from jumpdeck.core import activity
    from jumpdeck.core.store.models import CorpRow, ProvisionRunRow, ServerRow, WorkloadVmRow, utcnow

    def seed_rows(session) -> None:  # noqa: ANN001
        from sqlalchemy import select

        erp = session.scalar(select(ServerRow).where(ServerRow.name_key == "erp-prod"))
        for code, name, status in (("KR01", "Korea HQ", "ok"), ("VN01", "Vietnam plant", "warning"), ("US01", "US sales", "error")):
            session.add(CorpRow(server_id=erp.id, code=code, name=name, db_name=f"corp_{code.lower()}", status=status))
        for i in range(1, 9):
            session.add(WorkloadVmRow(vm_name=f"WKLD-{i:02d}", ip_address=f"127.0.10.{i}", ssh_user="deploy"))
        session.flush()
        now = utcnow().replace(microsecond=0)  # the store keeps naive UTC, as every row's default does
        runs = [
            ("web-portal", "standard", "COMPLETED", now - timedelta(days=2, hours=3), None),
            ("batch-etl", "single", "FAILED", now - timedelta(days=1, hours=5), "Task 'Start service' failed on app-1: port 8080 already in use."),
            ("hr-system", "enterprise", "CANCELED", now - timedelta(hours=6), None),
        ]
        for name, template, status, created, error in runs:
            run = ProvisionRunRow(service_name=name, template=template, status=status, created_by=actor.user,
                                  runner="mock", created_at=created, started_at=created,
                                  finished_at=created + timedelta(minutes=4))
            details = {"input": {"serviceName": name, "userName": actor.user, "config": {"template": template}},
                       "status": status, "logs": ["Allocating IP...", "Creating Web tier..."]}
            if status == "COMPLETED":
                vms = session.scalars(select(WorkloadVmRow).where(WorkloadVmRow.status == "available").limit(3)).all()
                session.add(run)
                session.flush()
                for vm in vms:
                    vm.status, vm.project_id, vm.occupy_user = "assigned", run.id, actor.user
                ips = [vm.ip_address for vm in vms]
                run.assigned_ip = ",".join(ips)
                details["resources"] = {"alb_ip": ips[0], "web_url": f"http://{ips[0]}/", "db_vip": ips[-1],
                                        "ssh_targets": [{"host": ip, "port": 22, "user": "deploy"} for ip in ips]}
            if error:
                details["error"] = {"message": error}
            run.details = details
            session.add(run)
        activity.record(session, actor, "SEED", "DEMO", "", "demo data created")

    await ctx.store.run(seed_rows)
    from jumpdeck.core.provision.demo import seed_run_logs

    await seed_run_logs(ctx)
    await seed_production_demo(ctx.config)


async def seed_production_demo(config: Config, rows: int = 200_000) -> None:
    """Charts data: last year in an archive file, this year live (about a second to write)."""
    import asyncio

    from jumpdeck.core.production.generate import generate
    from jumpdeck.core.production.rollup import refresh_rollups
    from jumpdeck.core.production.schema import live_db_path

    if live_db_path(config).exists():
        return
    year = datetime.now().year
    await asyncio.to_thread(generate, config, rows, (year - 1, year))
    await asyncio.to_thread(refresh_rollups, config)
