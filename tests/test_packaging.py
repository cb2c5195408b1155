"""What the wheel carries: every package folder and every data file of the checkout is
named in pyproject.toml, so nothing works from a checkout that an installed jumpdeck lacks.
(.ci/run builds the wheel and runs it from outside the checkout; this catches the omission
at test time, before anyone builds.)"""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

from jumpdeck.core.package_data import migrations_dir, playbooks_dir

ROOT = Path(__file__).resolve().parents[1]
DATA_SUFFIXES = {".tcss", ".yml", ".yaml", ".j2", ".ini", ".mako"}


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _folder_of(package: str, package_dir: dict[str, str]) -> Path:
    for prefix, folder in package_dir.items():
        if package == prefix or package.startswith(prefix + "."):
            rest = package[len(prefix):].lstrip(".").replace(".", "/")
            return ROOT / folder / rest
    raise AssertionError(f"{package} is not under any package-dir mapping")


def test_every_package_folder_is_listed_and_nothing_outside_jumpdeck() -> None:
    cfg = _setuptools()
    packages = set(cfg["packages"])
    assert all(p.startswith("jumpdeck.") for p in packages), packages
    listed = {_folder_of(p, cfg["package-dir"]) for p in packages}
    on_disk = {init.parent for top in ("core", "tui", "database", "playbooks")
               for init in (ROOT / top).rglob("__init__.py")}
    assert on_disk - listed == set(), f"package folders missing from pyproject.toml: {sorted(on_disk - listed)}"
    assert all(folder.is_dir() for folder in listed)


def test_every_data_file_is_matched_by_package_data() -> None:
    cfg = _setuptools()
    by_folder = [(_folder_of(pkg, cfg["package-dir"]), globs) for pkg, globs in cfg["package-data"].items()]
    missing = []
    for top in ("core", "tui", "database", "playbooks"):
        for path in (ROOT / top).rglob("*"):
            if path.suffix not in DATA_SUFFIXES or "__pycache__" in path.parts:
                continue
            if not any(path.is_relative_to(folder)
                       and any(fnmatch(path.relative_to(folder).as_posix(), g) for g in globs)
                       for folder, globs in by_folder):
                missing.append(str(path.relative_to(ROOT)))
    assert missing == [], f"data files the wheel would not carry: {missing}"


def test_package_data_is_found_through_the_package() -> None:
    assert (migrations_dir() / "env.py").is_file()
    assert any((migrations_dir() / "versions").glob("0001_*.py"))
    assert (playbooks_dir() / "single.yml").is_file()
    assert (playbooks_dir() / "roles").is_dir()
