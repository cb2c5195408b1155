"""SQLAlchemy models of the metadata store (DESIGN.md "Data").

The Alembic migrations in `database/versions/` create exactly these tables;
`tests/core/test_store.py` checks that models and migrations never drift apart.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class ServerRow(Base):
    """A registered database server (seed 000 `db_servers`, password encrypted)."""

    __tablename__ = "servers"
    # Ids the activity log names are never handed out twice (SQLite would reuse the
    # highest one after a delete; PostgreSQL's sequences never do).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    # Names are unique trimmed and case-insensitive: the folded form carries the constraint.
    name_key: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    db_type: Mapped[str] = mapped_column(String(20), nullable=False)
    host: Mapped[str] = mapped_column(String(200), nullable=False)
    port: Mapped[int] = mapped_column(Integer, nullable=False)
    username: Mapped[str] = mapped_column(String(100), nullable=False)
    password_enc: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The account logs in without a password, on purpose (0008): an empty token alone never means that.
    no_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    default_db: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    data_path: Mapped[str | None] = mapped_column(String(500))
    log_path: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    group_name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    corps: Mapped[list[CorpRow]] = relationship(back_populates="server")


class CorpRow(Base):
    """A corp database living on a server. A server with corps cannot be deleted."""

    __tablename__ = "corps"
    __table_args__ = (UniqueConstraint("server_id", "code", name="uq_corps_server_code"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(50), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    db_name: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="ok")  # ok / warning / error
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    server: Mapped[ServerRow] = relationship(back_populates="corps")


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)  # admin / operator / viewer
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # pending / active / disabled
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    keys: Mapped[list[UserKeyRow]] = relationship(back_populates="user", cascade="all, delete-orphan")


class UserKeyRow(Base):
    """An SSH public key of a user, for serve-ssh. The fingerprint is unique overall."""

    __tablename__ = "user_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    fingerprint: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    public_key: Mapped[str] = mapped_column(Text, nullable=False)
    comment: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    added_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    user: Mapped[UserRow] = relationship(back_populates="keys")


class ActivityRow(Base):
    """One audited mutation. `detail` never holds a secret."""

    __tablename__ = "activity_log"
    __table_args__ = (
        Index("ix_activity_actor_id", "actor", "id"),
        Index("ix_activity_action_id", "action", "id"),
        Index("ix_activity_target_id", "target_type", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    origin: Mapped[str] = mapped_column(String(100), nullable=False)
    action: Mapped[str] = mapped_column(String(50), nullable=False)
    target_type: Mapped[str] = mapped_column(String(50), nullable=False)
    target_id: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")


class ProvisionRunRow(Base):
    """A provisioning run (the seed's `projects`)."""

    __tablename__ = "provision_runs"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_name: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    template: Mapped[str] = mapped_column(String(50), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="PENDING", index=True)
    assigned_ip: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    runner: Mapped[str] = mapped_column(String(20), nullable=False, default="mock")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # The detached worker process running the playbook, so any process can tell a live
    # run from an interrupted one; cancel is a flag the worker polls (it may be on
    # another process than the one asking).
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    artifact_dir: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The lease the run's worker renews (store clock, naive UTC): any host that sees it
    # expired fails the run; only the holder (host + pid) may renew it (0007).
    lease_host: Mapped[str | None] = mapped_column(String(200))
    lease_pid: Mapped[int | None] = mapped_column(Integer)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)


class ProvisionEventRow(Base):
    """One event or log line of a run, persisted as it arrives so any process can
    replay a run from the start and follow it by id (`WHERE run_id = ? AND id > ?`)."""

    __tablename__ = "provision_events"
    __table_args__ = (Index("ix_provision_events_run_id", "run_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("provision_runs.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # line / task / step / status / recap
    result: Mapped[str] = mapped_column(String(20), nullable=False, default="")  # ok / changed / failed / ...
    host: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    task: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    step: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")


class WorkloadVmRow(Base):
    """A VM of the workload pool. Allocation is atomic (see the provisioning service)."""

    __tablename__ = "workload_pool"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vm_name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    ip_address: Mapped[str] = mapped_column(String(100), nullable=False)
    ssh_user: Mapped[str] = mapped_column(String(100), nullable=False, default="root")
    ssh_port: Mapped[int] = mapped_column(Integer, nullable=False, default=22)
    ssh_password_enc: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="available", index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("provision_runs.id"))
    occupy_user: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class SettingsRow(Base):
    """The single settings row (id = 1). Keys beyond the columns live in `extra`."""

    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    maintenance_mode: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    system_notice: Mapped[str] = mapped_column(Text, nullable=False, default="")
    max_vcpu: Mapped[int] = mapped_column(Integer, nullable=False, default=100)
    max_memory: Mapped[int] = mapped_column(Integer, nullable=False, default=256)
    max_concurrent_runs: Mapped[int] = mapped_column(Integer, nullable=False, default=4)
    archive_cutoff_year: Mapped[int | None] = mapped_column(Integer)
    backup_retention_live: Mapped[int] = mapped_column(Integer, nullable=False, default=30)
    backup_retention_archive: Mapped[int] = mapped_column(Integer, nullable=False, default=12)
    backup_retention_store: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    # Which key encrypts this store's secrets (core/store_key.py): its fingerprint and a
    # token made with it. Never the key.
    key_id: Mapped[str | None] = mapped_column(String(80))
    key_check: Mapped[str | None] = mapped_column(Text)


class StoreChangeRow(Base):
    """A counter per watched table, bumped by a trigger on every write (SQLite's change
    feed reads these; PostgreSQL announces with NOTIFY). See core/store/announcers.py."""

    __tablename__ = "store_changes"

    topic: Mapped[str] = mapped_column(String(50), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")


class WatchHostRow(Base):
    """A running `jumpdeck watch` (host + pid), its site and heartbeat (store clock). The
    live ones share the fleet between them; a row whose heartbeat is older than a lease
    is a stopped host, removed by whoever sees it (0009)."""

    __tablename__ = "watch_hosts"

    host: Mapped[str] = mapped_column(String(200), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(200), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class WatchClaimRow(Base):
    """Who checks a server and when it is next due. The holder renews its lease; once the
    lease expired any eligible host may take the server. `next_due_at` lives here, not in
    a host, so a server changing hands is not checked twice in one interval."""

    __tablename__ = "watch_claims"
    __table_args__ = (Index("ix_watch_claims_holder", "holder_host", "holder_pid"),)

    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"), primary_key=True)
    # Only a watch of this site may check the server (a zone only one jump host reaches).
    pinned_site: Mapped[str | None] = mapped_column(String(200))
    holder_host: Mapped[str | None] = mapped_column(String(200))
    holder_pid: Mapped[int | None] = mapped_column(Integer)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    next_due_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class WatchLatestRow(Base):
    """A server's latest check result, from the watch or any face that checked it."""

    __tablename__ = "watch_latest"

    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    checked_by: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    error_kind: Mapped[str | None] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text, nullable=False)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    version: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)  # consecutive, 0 when online
    down_since: Mapped[datetime | None] = mapped_column(DateTime)  # first failure of the streak
    # Checks over the last 24 h and 30 d, summed from the aggregates as each result is
    # written, so the fleet's uptime is one row a server to read, not fifty.
    up_24h: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    down_24h: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    up_30d: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    down_30d: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class WatchIncidentRow(Base):
    """A state change: a server down (or down another way) from `started_at` to `ended_at`."""

    __tablename__ = "watch_incidents"
    __table_args__ = (
        Index("ix_watch_incidents_server_started", "server_id", "started_at"),
        Index("ix_watch_incidents_ended", "ended_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    error_kind: Mapped[str] = mapped_column(String(30), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)


class _WatchAggregate:
    """Up/down counts and latency of one server over one bucket. Latency sums online
    checks only (a timeout's wait is not a latency). One table per grain: no grain column
    in every row and its key (10,000 servers keep 11 million of these rows)."""

    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(DateTime, primary_key=True)  # the bucket's start, UTC
    up: Mapped[int] = mapped_column(Integer, nullable=False)
    down: Mapped[int] = mapped_column(Integer, nullable=False)
    latency_sum: Mapped[float] = mapped_column(Float, nullable=False)
    latency_min: Mapped[float | None] = mapped_column(Float)
    latency_max: Mapped[float | None] = mapped_column(Float)


class WatchHourRow(_WatchAggregate, Base):
    """An hour; for the last 24 h it also carries its sixty minutes, packed
    (core/watch/minute_slots.py), rather than sixty rows of its own."""

    __tablename__ = "watch_hours"
    __table_args__ = (Index("ix_watch_hours_bucket", "bucket"),)

    minutes: Mapped[bytes | None] = mapped_column(LargeBinary)  # until the minute retention


class WatchDayRow(_WatchAggregate, Base):
    __tablename__ = "watch_days"
    __table_args__ = (Index("ix_watch_days_bucket", "bucket"),)


# Every column holding a Fernet token, for `jumpdeck rotate-key` and the leak tests.
ENCRYPTED_COLUMNS: list[tuple[type[Base], str]] = [
    (ServerRow, "password_enc"),
    (WorkloadVmRow, "ssh_password_enc"),
]
