"""Arbitrary text into every field of every form and dialog, through the real app.

Each dialog with text fields (found by reading tui/screens, so a new one must be listed
here or say why not) is opened in a running app (`run_test`), every Input gets generated
text, and the dialog's own save or submit runs. The app must still be running with no
exception, the dialog either still open (showing its sentence, never the store's refusal
of what validation let through) or closed, and the store holding only whole rows. Arbitrary sessions per dialog: JUMPDECK_FUZZ_FORM_EXAMPLES
(default 1 session of 4 fills; each session boots the app, so they cost).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from jumpdeck.core.config import load_config
from tests.tui.conftest import booted, prepare_store
from tests.tui.test_cli_fuzz import STORE_REFUSED, VALUE, assert_whole_rows

SESSIONS = int(os.environ.get("JUMPDECK_FUZZ_FORM_EXAMPLES", "1"))
FILLS = 4


@dataclass(frozen=True)
class Dialog:
    open: Callable  # (app) -> the dialog screen, built as its screen builds it
    submit: str  # the id of the button its save runs from, or "enter" for an Input's submit
    # One field hostile at a time; False: all at once (27 settings, each checked by its own
    # SETTING_SPECS parse, which tests/tui/test_bad_input.py feeds every hostile text).
    each_field: bool = True
    systematic: bool = True  # False: only arbitrary sessions (the edit form's fields are the add form's)


def _server_form(app):
    from jumpdeck.tui.screens.server_form import ServerForm

    return ServerForm(app.screen.engine, app.screen.registry)


def _server_edit_form(app):
    from jumpdeck.tui.screens.server_form import ServerForm

    row = next(iter(app.screen.fleet.rows.values()))
    return ServerForm(app.screen.engine, app.screen.registry, row.info)


def _corp_form(app):
    from jumpdeck.core.servers.dashboard import DashboardService
    from jumpdeck.tui.screens.corp_form import CorpForm

    row = next(iter(app.screen.fleet.rows.values()))  # on a closed port: nothing is created anywhere
    return CorpForm(DashboardService(app.screen.registry, app.screen.engine), row.info)


def _user_form(app):
    from jumpdeck.tui.screens.user_form import UserForm

    return UserForm()


def _key_form(app):
    from jumpdeck.tui.screens.user_form import KeyForm

    return KeyForm("kim.operator")


def _settings_dialog(app):
    from jumpdeck.tui.screens.settings_dialog import SettingsDialog

    return SettingsDialog()


def _connect_dialog(app):
    from jumpdeck.tui.screens.ssh_dialogs import ConnectDialog

    return ConnectDialog(host="10.0.0.5", user="ops")  # it only builds a target; the SSH screen connects


def _restore_dialog(app):
    from jumpdeck.tui.screens.maintenance_dialogs import RestoreDialog

    return RestoreDialog("live-20260101-000000.db", "production.db")


def _rollover_wizard(app):
    from jumpdeck.tui.screens.maintenance_dialogs import RolloverWizard

    return RolloverWizard(2027)  # "Plan" is a dry run; the run button stays untouched


def _new_run_dialog(app):
    from jumpdeck.core.provision.service import ProvisionService
    from jumpdeck.tui.screens.provision import NewRunDialog

    ctx = app.ctx
    service = ProvisionService(ctx.store, ctx.config, ctx.settings)

    async def start(answer: dict):  # as the Provision screen starts it; the seeded pool is empty, so no run begins
        return await service.start(ctx.actor, answer["template"], answer["name"], packages=answer["packages"],
                                   runner=answer["runner"], target=answer["target"])

    return NewRunDialog(runner="mock", start=start)


DIALOGS = {
    "ServerForm": [Dialog(_server_form, "save"), Dialog(_server_edit_form, "save", systematic=False)],
    "CorpForm": [Dialog(_corp_form, "create")],
    "UserForm": [Dialog(_user_form, "save")],
    "KeyForm": [Dialog(_key_form, "save")],
    "SettingsDialog": [Dialog(_settings_dialog, "save", each_field=False)],
    "ConnectDialog": [Dialog(_connect_dialog, "connect")],
    "RestoreDialog": [Dialog(_restore_dialog, "enter")],
    "RolloverWizard": [Dialog(_rollover_wizard, "rw-plan-button")],
    "NewRunDialog": [Dialog(_new_run_dialog, "nr-start")],
}
CASES = [(name, index) for name, dialogs in DIALOGS.items() for index in range(len(dialogs))]
SYSTEMATIC_CASES = [(name, index) for name, index in CASES if DIALOGS[name][index].systematic]


def dialogs_with_text_fields() -> set[str]:
    """Every modal screen in tui/screens whose source builds an Input (itself or through
    its form base's `_input`)."""
    import jumpdeck.tui.screens as screens

    found = set()
    for info in pkgutil.iter_modules(screens.__path__):
        module = importlib.import_module(f"jumpdeck.tui.screens.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, ModalScreen) \
                    and ("Input(" in (source := inspect.getsource(cls)) or "self._input(" in source):
                found.add(name)
    return found


def test_every_dialog_with_text_fields_is_fuzzed() -> None:
    assert dialogs_with_text_fields() - {"_Form"} == set(DIALOGS)


@pytest.fixture
def form_config(tmp_path):
    async def seed(ctx) -> None:
        from jumpdeck.core.secrets import Secret
        from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec

        await ServerRegistry(ctx.store, ctx.secrets).create(ctx.actor, ServerSpec(
            name="db1", db_type="postgresql", host="127.0.0.1", port=1, username="postgres", password=Secret("pw")))

    config = load_config(cli={"home": str(tmp_path / "home")})
    asyncio.run(prepare_store(config, extra=seed))
    return config


# Half the values are plausible for their field, so a save gets past the first check and
# reaches the deeper ones (and the store) with the other fields arbitrary.
HOSTILE = ["a\udcffb", "a\0b", "nan", "x" * 5000, "99999999999999999999"]
PLAUSIBLE = {"f-name": "db-new", "f-host": "127.0.0.1", "f-user": "postgres", "f-password": "pw", "f-port": "5432",
             "name": "newuser", "c-code": "C01", "c-name": "Corp one", "c-db": "corp_one", "host": "10.0.0.5",
             "port": "22", "user": "ops", "nr-name": "svc-a", "rw-year": "2027"}


def _field_text(draw, files: Path, field: Input) -> str:
    if field.id == "key" and draw(st.booleans()):  # a key file: random bytes on disk
        path = files / f"key-{draw(st.integers(0, 10**6))}.pub"
        path.write_bytes(draw(st.binary(max_size=300)))
        return str(path)
    return draw(st.one_of(st.just(PLAUSIBLE.get(field.id, field.value)), VALUE))


async def fill_and_submit(app, pilot, dialog: Dialog, values_for: Callable[[list[Input]], dict[str, str]]) -> None:
    """Open the dialog over the current screen, fill it, submit it, close it if it stayed."""
    base = app.screen
    form = dialog.open(app)
    await app.push_screen(form)
    await pilot.pause()
    fields = [f for f in form.query(Input) if not f.disabled]
    values = values_for(fields)
    for field in fields:
        field.value = values[field.id]
    if dialog.submit == "enter":
        fields[0].focus()
        await pilot.press("enter")
    else:
        form.query_one(f"#{dialog.submit}", Button).press()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert app.is_running and app._exception is None, values
    assert app.screen in (form, base), (values, app.screen)
    shown = " ".join(str(w.render()) for w in form.query(Static))
    assert STORE_REFUSED not in shown, (values, shown)  # validation let it through to the store
    if app.screen is form:
        form.dismiss(None)
        await pilot.pause()


async def in_app(config, work) -> None:
    from jumpdeck.tui.app import JumpdeckApp

    app = JumpdeckApp(config, user="admin")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await work(app, pilot)
    assert app._exception is None  # run_test raises a handler's exception too; this says so


@pytest.fixture
def files(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "files"
    path.mkdir()
    monkeypatch.chdir(path)  # a relative key path points in here
    return path


@pytest.mark.parametrize("name, index", SYSTEMATIC_CASES, ids=[f"{n}-{i}" for n, i in SYSTEMATIC_CASES])
def test_each_field_with_each_hostile_text(name, index, form_config, files) -> None:
    """Every field in turn holds each of HOSTILE while the others are plausible, so the
    save reaches the check of that field (and, past it, the store)."""
    dialog = DIALOGS[name][index]

    async def work(app, pilot) -> None:
        form = dialog.open(app)
        await app.push_screen(form)
        await pilot.pause()
        ids = [f.id for f in form.query(Input) if not f.disabled]
        form.dismiss(None)
        await pilot.pause()
        if not dialog.each_field:
            for text in HOSTILE:
                await fill_and_submit(app, pilot, dialog, lambda fields: {f.id: text for f in fields})
            return
        for target in ids:
            for text in HOSTILE:
                await fill_and_submit(app, pilot, dialog, lambda fields: {
                    f.id: text if f.id == target else PLAUSIBLE.get(f.id, f.value) for f in fields})

    asyncio.run(in_app(form_config, work))
    assert_whole_rows(Path(form_config.home))


@pytest.mark.parametrize("name, index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_no_traceback_from_any_form_input(name, index, form_config, files) -> None:
    dialog = DIALOGS[name][index]

    async def work(app, pilot, draw) -> None:
        for _ in range(FILLS):
            await fill_and_submit(app, pilot, dialog, lambda fields: {f.id: _field_text(draw, files, f) for f in fields})

    @settings(max_examples=SESSIONS, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.data())
    def one_session(data) -> None:
        asyncio.run(in_app(form_config, lambda app, pilot: work(app, pilot, data.draw)))

    one_session()
    assert_whole_rows(Path(form_config.home))
