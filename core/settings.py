"""System settings (seeds 002/004): one row, admin-only to change, every change audited.

Each key is declared once in `SETTING_SPECS` with its type, default, limits and help;
the CLI (`jumpdeck settings get|set`), the settings dialog and validation all read it.
Keys with their own column are the seed's; later keys live in the row's `extra` JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jumpdeck.core import activity
from jumpdeck.core.errors import ValidationError
from jumpdeck.core.identity import Actor, Operation, require
from jumpdeck.core.text_checks import finite_number, storable_text
from jumpdeck.core.vm_defaults import DEFAULT_PYTHON, DEFAULT_ROOT_DIR

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.store.engine import Store


@dataclass(frozen=True)
class SettingSpec:
    key: str
    kind: type  # bool, int, float or str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    column: bool = False  # a column of the settings table (else in `extra`)
    optional: bool = False  # may be empty (None)
    rule: Callable[[Any], str | None] | None = None  # a further check: the sentence that refuses, or None

    def parse(self, raw: Any) -> Any:
        """Turn user input (a string from the CLI or a form) into a value, or explain."""
        if self.optional and (raw is None or (isinstance(raw, str) and raw.strip() == "")):
            return None
        try:
            if self.kind is bool:
                if isinstance(raw, bool):
                    value = raw
                else:
                    text = str(raw).strip().lower()
                    if text not in {"true", "false", "on", "off", "yes", "no", "1", "0"}:
                        raise ValueError
                    value = text in {"true", "on", "yes", "1"}
            elif self.kind is int:
                if isinstance(raw, bool):
                    raise ValueError
                value = int(str(raw).strip())
            elif self.kind is float:
                value = float(str(raw).strip())
            else:
                value = str(raw)
        except ValueError:
            raise ValidationError(
                f"'{raw}' is not a valid value for {self.key}.", field=self.key, remedy=f"It takes {self.describe()}."
            ) from None
        if self.kind is float:  # nan passes every limit comparison below
            finite_number(value, label=f"value of {self.key}", field=self.key)
        if self.kind in (int, float):
            if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
                raise ValidationError(f"{self.key} must be {self.describe()}; got {value}.", field=self.key)
        if self.kind is str and len(value) > 500:
            raise ValidationError(f"{self.key} is limited to 500 characters.", field=self.key)
        if self.kind is str:
            storable_text(value, label=f"value of {self.key}", field=self.key)
        if self.rule is not None and value is not None:
            refusal = self.rule(value)
            if refusal:
                raise ValidationError(refusal, field=self.key)
        return value

    def describe(self) -> str:
        if self.kind is bool:
            return "true or false"
        if self.kind in (int, float):
            noun = "a whole number" if self.kind is int else "a number"
            if self.minimum is not None and self.maximum is not None:
                text = f"{noun} from {self.minimum:g} to {self.maximum:g}"
            elif self.minimum is not None:
                text = f"{noun} of at least {self.minimum:g}"
            else:
                text = noun
            return text + (" (or empty)" if self.optional else "")
        return "text"


POLL_CHOICES = (0, 30, 60, 300)  # what the Servers screen's p cycles through


def _one_of_poll_choices(value: int) -> str | None:
    if value in POLL_CHOICES:
        return None
    return f"poll_interval is one of {', '.join(map(str, POLL_CHOICES))} seconds (0 is off); got {value}."


def _http_url(value: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return f"prometheus_url must be an http(s) URL such as http://127.0.0.1:9090; got {value!r}."
    return None


def _one_line(value: str) -> str | None:
    if any(ch in value for ch in "\r\n\t\x0b\x0c") or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "system_notice is one line of text: no line breaks, tabs or control characters."
    return None


SETTING_SPECS: dict[str, SettingSpec] = {
    s.key: s
    for s in [
        SettingSpec("maintenance_mode", bool, False, "blocks provisioning for everyone but admins", column=True),
        SettingSpec("system_notice", str, "", "a notice shown in every operator's header", column=True, rule=_one_line),
        SettingSpec("max_vcpu", int, 100, "vCPU limit for provisioning", 1, 100000, column=True),
        SettingSpec("max_memory", int, 256, "memory limit (GB) for provisioning", 1, 1000000, column=True),
        SettingSpec("max_concurrent_runs", int, 4, "provisioning runs allowed at once", 1, 100, column=True),
        SettingSpec("archive_cutoff_year", int, None, "first year kept in the live production DB", 1970, 9999, column=True, optional=True),
        SettingSpec("backup_retention_live", int, 30, "live DB backups kept", 1, 10000, column=True),
        SettingSpec("backup_retention_archive", int, 12, "archive DB backups kept", 1, 10000, column=True),
        SettingSpec("backup_retention_store", int, 10, "store backups kept", 1, 10000, column=True),
        SettingSpec("poll_interval", int, 0, "server status polling in seconds (0 = off; 30, 60, 300)", 0, 300,
                    rule=_one_of_poll_choices),
        SettingSpec("cache_size", int, 200, "production query cache entries", 0, 100000),
        SettingSpec("cache_ttl", int, 300, "production query cache lifetime in seconds", 0, 86400),
        SettingSpec("slow_query_ms", int, 500, "log queries slower than this as SLOW QUERY", 1, 600000),
        SettingSpec("prometheus_url", str, None, "Prometheus base URL for the Monitor screen", optional=True, rule=_http_url),
        SettingSpec("prometheus_instance", str, "{ip}:9100", "instance label of a VM's node_exporter"),
        SettingSpec("monitor_warning_pct", int, 80, "monitor warning threshold (%)", 1, 100),
        SettingSpec("monitor_critical_pct", int, 95, "monitor critical threshold (%)", 1, 100),
        SettingSpec("monitor_refresh", int, 15, "monitor refresh interval in seconds", 1, 3600),
        SettingSpec("watcher_interval", int, 3600, "DB watcher daemon interval in seconds", 10, 86400),
        SettingSpec("watcher_wal_limit_mb", int, 64, "the watcher checkpoints a WAL larger than this (MB)", 1, 100000),
        SettingSpec("backup_max_age_hours", int, 48, "health is degraded when the last good live backup is older (hours)", 1, 100000),
        SettingSpec("monitor_timeout", float, 5.0, "timeout of one Prometheus query in seconds", 0.1, 120),
        SettingSpec("provision_root", str, DEFAULT_ROOT_DIR, "directory on each VM under which playbooks put everything"),
        SettingSpec("provision_python", str, DEFAULT_PYTHON, "Python interpreter on the VMs (pinned, no discovery)"),
        SettingSpec("provision_ssh_key", str, None, "private key file the runner uses for the pool's VMs", optional=True),
        SettingSpec("provision_http_port", int, 8080, "port of the service each template starts on a VM", 1, 65535),
        SettingSpec("provision_install_packages", bool, False, "let playbooks install packages (needs root and a mirror)"),
        SettingSpec("watch_interval", int, 60, "seconds between two checks of a server by `jumpdeck watch`", 10, 86400),
        SettingSpec("watch_jitter", float, 0.1, "share of the interval added at random to a server's next check", 0, 0.5),
        SettingSpec("watch_failures", int, 3, "consecutive failed checks before the watch opens an incident", 1, 100),
        SettingSpec("watch_keep_minutes_hours", int, 24, "hours the watch keeps per-minute aggregates", 1, 168),
        SettingSpec("watch_keep_hours_days", int, 30, "days the watch keeps per-hour aggregates", 1, 366),
        SettingSpec("watch_keep_days_days", int, 400, "days the watch keeps per-day aggregates and closed incidents",
                    1, 3660),
    ]
}


@dataclass(frozen=True)
class Settings:
    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str) -> Any:
        return self.values.get(key, SETTING_SPECS[key].default)


def _spec(key: str) -> SettingSpec:
    spec = SETTING_SPECS.get(key)
    if spec is None:
        raise ValidationError(f"There is no setting named '{key}'.", field=key,
                              remedy="Known settings: " + ", ".join(SETTING_SPECS) + ".")
    return spec


def _load_row(session: Session):  # noqa: ANN202
    from jumpdeck.core.store.models import SettingsRow

    row = session.get(SettingsRow, 1)
    if row is None:
        # The schema creates the row (migration 0003); this only mends a store whose row
        # was deleted by hand. ON CONFLICT lets two processes doing it at once both go on
        # (on PostgreSQL the second waits for the first's commit, then reads its row).
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(SettingsRow).values(id=1, extra={}).on_conflict_do_nothing(index_elements=["id"]))
        row = session.get(SettingsRow, 1)
    return row


def _row_to_settings(row) -> Settings:  # noqa: ANN001
    values = {}
    for key, spec in SETTING_SPECS.items():
        values[key] = getattr(row, key) if spec.column else (row.extra or {}).get(key, spec.default)
    return Settings(values)


class SettingsService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self) -> Settings:
        """Readable by anyone (the header shows the notice); no permission check."""
        return await self.store.run(lambda s: _row_to_settings(_load_row(s)))

    async def set(self, actor: Actor, changes: dict[str, Any]) -> Settings:
        """Validate every change first, then apply them all in one transaction."""
        require(actor, Operation.EDIT_SETTINGS)
        parsed = {key: _spec(key).parse(raw) for key, raw in changes.items()}
        warn = parsed.get("monitor_warning_pct")
        crit = parsed.get("monitor_critical_pct")

        def apply(session: Session) -> Settings:
            from jumpdeck.core.store.locks import write_lock

            # The row is read, merged and written back (`extra` as a whole): two processes
            # setting different keys at once must not write over each other's.
            write_lock(session, "settings")
            row = _load_row(session)
            current = _row_to_settings(row)
            w = warn if warn is not None else current.get("monitor_warning_pct")
            c = crit if crit is not None else current.get("monitor_critical_pct")
            if w >= c:
                raise ValidationError(f"The warning threshold ({w}%) must be below the critical one ({c}%).",
                                      field="monitor_warning_pct")
            extra = dict(row.extra or {})
            described = []
            for key, value in parsed.items():
                old = current.get(key)
                if SETTING_SPECS[key].column:
                    setattr(row, key, value)
                else:
                    extra[key] = value
                if old != value:
                    described.append(f"{key}: {old!r} -> {value!r}")
            row.extra = extra
            if described:
                activity.record(session, actor, "UPDATE", "SETTINGS", "1", "; ".join(described))
            session.flush()
            return _row_to_settings(row)

        return await self.store.run(apply)
