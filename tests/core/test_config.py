"""Configuration precedence and bad values."""

import os
from pathlib import Path

import pytest

from jumpdeck.core.config import load_config
from jumpdeck.core.errors import ConfigError


def write(path: Path, text: str) -> dict:
    path.write_text(text)
    return {"JUMPDECK_CONFIG": str(path)}


def test_defaults_then_file_then_env_then_cli(tmp_path) -> None:
    env = write(tmp_path / "c.toml", 'check_concurrency = 10\ncheck_timeout = 3\nrunner = "mock"\n')
    env["JUMPDECK_HOME"] = str(tmp_path / "h")
    config = load_config(env=env)
    assert (config.check_concurrency, config.check_timeout, config.runner) == (10, 3.0, "mock")
    assert config.home == (tmp_path / "h").resolve()
    env["JUMPDECK_CHECK_CONCURRENCY"] = "20"
    assert load_config(env=env).check_concurrency == 20
    assert load_config(env=env, cli={"home": str(tmp_path / "cli")}).home == (tmp_path / "cli").resolve()
    plain = load_config(env={"JUMPDECK_CONFIG": os.devnull, "JUMPDECK_HOME": str(tmp_path)})
    assert (plain.check_concurrency, plain.runner, plain.cursor_blink) == (64, "ansible", False)


@pytest.mark.parametrize(
    "text, key",
    [("check_concurrency = 0\n", "check_concurrency"), ('runner = "docker"\n', "runner"),
     ("check_timeout = -1\n", "check_timeout"), ('cursor_blink = "maybe"\n', "cursor_blink")],
)
def test_bad_file_value_names_key_file_and_allowed(tmp_path, text, key) -> None:
    env = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as info:
        load_config(env=env)
    message = str(info.value)
    assert key in message and str(tmp_path / "c.toml") in message and "Use " in message


def test_bad_env_value_names_the_variable(tmp_path) -> None:
    with pytest.raises(ConfigError, match="JUMPDECK_CHECK_TIMEOUT"):
        load_config(env={"JUMPDECK_CONFIG": os.devnull, "JUMPDECK_CHECK_TIMEOUT": "soon"})


def test_unknown_key_and_broken_toml(tmp_path) -> None:
    with pytest.raises(ConfigError, match="Unknown configuration key 'colour'"):
        load_config(env=write(tmp_path / "a.toml", 'colour = "red"\n'))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(env=write(tmp_path / "b.toml", "check_timeout = = 3\n"))


def test_demo_uses_its_own_home_and_never_the_shared_store(tmp_path) -> None:
    env = {"JUMPDECK_CONFIG": os.devnull, "JUMPDECK_HOME": str(tmp_path / "h"),
           "JUMPDECK_STORE_URL": "postgresql://ops@db/jumpdeck"}
    real = load_config(env=env)
    demo = load_config(env=env, demo=True)
    assert real.store_url == "postgresql://ops@db/jumpdeck"
    assert demo.store_url is None and demo.home == real.home / "demo" and demo.runner == "mock"
    assert demo.store_path != real.store_path


def test_everything_written_lives_under_home(tmp_path) -> None:
    config = load_config(cli={"home": str(tmp_path / "h")})
    for path in (config.store_path, config.key_path, config.log_dir, config.database_dir, config.backups_dir,
                 config.known_hosts_path, config.runs_dir):
        assert config.home in path.parents


def test_a_config_file_named_but_missing_or_a_directory_is_an_error(tmp_path, monkeypatch) -> None:
    with pytest.raises(ConfigError, match="JUMPDECK_CONFIG names .*typo.toml, which does not exist") as info:
        load_config(env={"JUMPDECK_CONFIG": str(tmp_path / "typo.toml"), "JUMPDECK_HOME": str(tmp_path)})
    assert "/dev/null" in str(info.value)
    (tmp_path / "conf.d").mkdir()
    with pytest.raises(ConfigError, match="which is a directory"):
        load_config(env={"JUMPDECK_CONFIG": str(tmp_path / "conf.d"), "JUMPDECK_HOME": str(tmp_path)})
    # The default file may be absent (XDG dir without one): defaults, no error.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # platformdirs reads the process's own
    plain = load_config(env={"JUMPDECK_HOME": str(tmp_path)})
    assert plain.check_concurrency == 64
    # A directory where the default file would be is not skipped silently either.
    (tmp_path / "xdg" / "jumpdeck" / "config.toml").mkdir(parents=True)
    with pytest.raises(ConfigError, match="which is a directory"):
        load_config(env={"JUMPDECK_HOME": str(tmp_path)})
