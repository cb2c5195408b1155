"""Configuration: defaults < config.toml < JUMPDECK_* environment < command-line flags.

A value that is not allowed raises `ConfigError` naming the key, where it came from and
what is allowed; the CLI turns that into one line and exit code 2.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from jumpdeck.core.errors import ConfigError

APP_NAME = "jumpdeck"
ENV_PREFIX = "JUMPDECK_"


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError


def _parse_positive_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    number = int(value)
    if number < 1:
        raise ValueError
    return number


def _parse_positive_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    number = float(value)
    if not number > 0:
        raise ValueError
    return number


def _parse_optional_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _choice(*allowed: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in allowed:
            raise ValueError
        return text

    parse.allowed = allowed  # type: ignore[attr-defined]
    return parse


@dataclass(frozen=True)
class Option:
    """One configuration key: how to parse it and how to describe what is allowed."""

    name: str
    parse: Callable[[Any], Any]
    allowed: str
    help: str


OPTIONS: dict[str, Option] = {
    option.name: option
    for option in [
        Option("home", _parse_optional_str, "a directory path", "where jumpdeck writes everything (store, key, logs, database/)"),
        Option("store_url", _parse_optional_str, "an SQLAlchemy URL such as postgresql://user@host/db", "shared metadata store; empty = SQLite in the data dir"),
        Option("check_concurrency", _parse_positive_int, "a whole number of at least 1", "how many server checks run at once"),
        Option("check_timeout", _parse_positive_float, "a number of seconds above 0", "hard limit for one server check"),
        Option("store_connect_timeout", _parse_positive_float, "a number of seconds above 0", "how long to wait for a PostgreSQL store before falling back"),
        Option("lease_renew", _parse_positive_float, "a number of seconds above 0", "how often a run's worker renews its lease"),
        Option("lease_expire", _parse_positive_float, "a number of seconds above 0", "a run whose lease is this old is FAILED by any host"),
        Option("runner", _choice("ansible", "mock"), "ansible or mock", "provisioning runner"),
        Option("prometheus_url", _parse_optional_str, "an http(s) URL", "Prometheus for the Monitor screen"),
        Option("chart_marker", _choice("braille", "block", "ascii"), "braille, block or ascii", "how charts draw points"),
        Option("cursor_blink", _parse_bool, "true or false", "blinking cursors cost bandwidth over SSH"),
        Option("log_level", _choice("debug", "info", "warning", "error"), "debug, info, warning or error", "jumpdeck.log verbosity"),
    ]
}


@dataclass(frozen=True)
class Config:
    """The settled configuration of one jumpdeck process."""

    home: Path
    store_url: str | None = None
    check_concurrency: int = 64
    check_timeout: float = 5.0
    store_connect_timeout: float = 3.0
    lease_renew: float = 5.0
    lease_expire: float = 30.0
    runner: str = "ansible"
    prometheus_url: str | None = None
    chart_marker: str = "braille"
    cursor_blink: bool = False
    log_level: str = "info"
    demo: bool = False
    config_file: Path | None = None
    keymap: Mapping[str, str] = field(default_factory=dict)

    # Everything jumpdeck writes lives below `home`, so one variable relocates it all.
    @property
    def store_path(self) -> Path:
        return self.home / "store.db"

    @property
    def key_path(self) -> Path:
        return self.home / "secret.key"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def database_dir(self) -> Path:
        return self.home / "database"

    @property
    def known_hosts_path(self) -> Path:
        """jumpdeck's own known_hosts, shared by the SSH terminal and the Ansible runner."""
        return self.home / "known_hosts"

    @property
    def runs_dir(self) -> Path:
        """Per-run artifact dirs of the provisioning runner."""
        return self.home / "runs"

    @property
    def backups_dir(self) -> Path:
        return self.database_dir / "backups"

    def ensure_dirs(self) -> None:
        """The data dir and its folders, 0700 (it holds the key file and the store). A
        home that cannot be written is one sentence: reading commands work in one whose
        folders are already there."""
        from jumpdeck.core.private_files import private_dir

        for directory in (self.home, self.log_dir, self.database_dir, self.backups_dir):
            try:
                private_dir(directory)
            except OSError as exc:
                raise ConfigError(f"The data directory {self.home} is not writable ({exc.strerror}), so jumpdeck "
                                  f"cannot create {directory.name}/ in it.",
                                  remedy="Run jumpdeck as the directory's owner, or set JUMPDECK_HOME to a writable directory.") from None


def default_home() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_file(env: Mapping[str, str]) -> Path:
    if env.get("JUMPDECK_CONFIG"):
        return Path(env["JUMPDECK_CONFIG"])
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def _config_file_expected(path: Path, env: Mapping[str, str]) -> bool:
    """Whether to read `path`. The default file may be absent; one named by
    JUMPDECK_CONFIG must be there (a typo would otherwise run on defaults unnoticed),
    and neither may be a directory. JUMPDECK_CONFIG=/dev/null runs on no file at all."""
    named = bool(env.get("JUMPDECK_CONFIG"))
    source = "JUMPDECK_CONFIG names" if named else "The configuration path"
    if path.is_dir():
        raise ConfigError(f"{source} {path}, which is a directory, not a configuration file.",
                          remedy="Point JUMPDECK_CONFIG at a config.toml file, or move the directory away.")
    if named and not path.exists():
        raise ConfigError(f"JUMPDECK_CONFIG names {path}, which does not exist.",
                          remedy="Correct the path or create the file; unset JUMPDECK_CONFIG for the default "
                                 "config.toml, or set it to /dev/null to use no file.")
    return path.exists()


def _apply(values: dict[str, Any], key: str, raw: Any, source: str) -> None:
    option = OPTIONS.get(key)
    if option is None:
        known = ", ".join(sorted(OPTIONS))
        raise ConfigError(f"Unknown configuration key '{key}' in {source}.", remedy=f"Known keys: {known}.")
    try:
        values[key] = option.parse(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"Configuration key '{key}' in {source} has the value {raw!r}, which is not allowed.",
            remedy=f"Use {option.allowed}.",
        ) from None


def load_config(
    *,
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    demo: bool = False,
) -> Config:
    """Settle the configuration from every source, in order of precedence."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    keymap: dict[str, str] = {}

    config_file = default_config_file(env)
    if _config_file_expected(config_file, env):
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"The configuration file {config_file} cannot be read ({exc.strerror}).",
                              remedy="Check its owner and permissions.") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"The configuration file {config_file} is not valid TOML: {exc}.",
                remedy="Fix the line it names, or move the file away to use the defaults.",
            ) from None
        raw_keymap = data.pop("keymap", {})
        if not isinstance(raw_keymap, dict) or not all(isinstance(v, str) for v in raw_keymap.values()):
            raise ConfigError(
                f"The [keymap] section of {config_file} must map binding ids to keys.",
                remedy='Write it as: [keymap]\nservers.add = "ctrl+a"',
            )
        keymap.update(raw_keymap)
        for key, raw in data.items():
            _apply(values, key, raw, str(config_file))

    for key in OPTIONS:
        env_name = ENV_PREFIX + key.upper()
        if env_name in env:
            _apply(values, key, env[env_name], f"the environment variable {env_name}")

    for key, raw in (cli or {}).items():
        if raw is not None:
            _apply(values, key, raw, f"the command-line flag --{key.replace('_', '-')}")

    home = Path(values.pop("home")).expanduser() if values.get("home") else default_home()
    if demo:
        # The demo never touches the operator's real store: its own dir, always SQLite.
        home = home / "demo"
        values["store_url"] = None
        values.setdefault("runner", "mock")
    known = {f.name for f in fields(Config)}
    config = Config(home=home.resolve(), demo=demo, config_file=config_file, keymap=keymap, **{k: v for k, v in values.items() if k in known})
    return config


def with_home(config: Config, home: Path) -> Config:
    return replace(config, home=home)
