"""The SSH screen's dialogs: connect (host, port, user, auth) and unknown host key."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static

from jumpdeck.tui.screens.confirm import ConfirmScreen


class HostKeyDialog(ConfirmScreen):
    """Unknown host key: show the SHA256 fingerprint; "Reject" has the focus."""

    def __init__(self, offer, store_path) -> None:
        message = (
            f"{offer.display} presents a {offer.algorithm} host key jumpdeck has never seen:\n\n"
            f"    {offer.fingerprint}\n\n"
            "Compare it with the fingerprint the server's owner gave you "
            "(on the server: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub). "
            f"If you trust it, it is stored in {store_path}."
        )
        super().__init__("Unknown host key", message, confirm_label="Trust and connect", danger=False)
        self.offer = offer

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).label = "Reject"
        self.query_one("#cancel", Button).focus()


class ConnectDialog(ModalScreen):
    """Returns an `SshTarget`, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    # One labelled row per field, port and user side by side: the whole dialog fits 80x24.
    DEFAULT_CSS = """
    ConnectDialog { align: center middle; }
    ConnectDialog > Vertical { width: 76; max-width: 100%; height: auto; max-height: 100%;
                               border: thick $primary; padding: 0 1; background: $surface; }
    ConnectDialog .title { text-style: bold; margin-bottom: 1; }
    ConnectDialog .row { height: 3; }
    ConnectDialog .row Label { width: 9; padding-top: 1; }
    ConnectDialog .row Input, ConnectDialog .row Select { width: 1fr; }
    ConnectDialog #port { width: 12; }  /* "65535" and the cursor, inside the border */
    ConnectDialog #user-label { width: 6; margin-left: 1; }
    ConnectDialog #error { color: $error; height: auto; }
    ConnectDialog #buttons { height: auto; align: right middle; }
    ConnectDialog Button { margin-left: 1; }
    ConnectDialog .-hidden { display: none; }
    """

    def __init__(self, *, host: str = "", port: int = 22, user: str = "", cursor_blink: bool = False) -> None:
        super().__init__()
        self.initial = (host, port, user)
        self.cursor_blink = cursor_blink

    def compose(self) -> ComposeResult:
        import getpass

        host, port, user = self.initial
        with Vertical():
            yield Static("New SSH session", classes="title")
            with Horizontal(classes="row"):
                yield Label("Host")
                yield Input(host, id="host", placeholder="[user@]host: db-01.example or 10.0.0.5")
            with Horizontal(classes="row"):
                yield Label("Port")
                yield Input(str(port), id="port", type="integer")
                yield Label("User", id="user-label")
                yield Input(user or getpass.getuser(), id="user")
            with Horizontal(classes="row"):
                yield Label("Auth")
                yield Select([("ssh-agent and ~/.ssh keys", "agent"), ("Key file", "key"), ("Password", "password"),
                              ("Stored password (pool VM)", "stored")],
                             value="agent", allow_blank=False, id="auth")
            with Horizontal(classes="row -hidden", id="secret-row"):
                yield Label("", id="secret-label")
                yield Input(placeholder="~/.ssh/id_ed25519", id="key", classes="-hidden")
                yield Input(placeholder="never stored or shown", password=True, id="password", classes="-hidden")
            yield Static("", id="error", markup=False)  # the error's words, as written
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Connect", id="connect", variant="primary")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = self.cursor_blink
        self.query_one("#host", Input).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.query_one("#key").set_class(event.value != "key", "-hidden")
        self.query_one("#password").set_class(event.value != "password", "-hidden")
        self.query_one("#secret-row").set_class(event.value not in ("key", "password"), "-hidden")
        self.query_one("#secret-label", Label).update("Key file" if event.value == "key" else "Password")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "connect":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        from jumpdeck.core.errors import ValidationError
        from jumpdeck.core.secrets import Secret
        from jumpdeck.core.ssh import SshAuth, parse_destination

        values = {name: self.query_one(f"#{name}", Input).value.strip() for name in ("host", "port", "user", "key")}
        kind = self.query_one("#auth", Select).value
        try:
            port = int(values["port"] or 22)
            target = parse_destination(values["host"], port=port, default_user=values["user"] or None)
            if kind == "key":
                if not values["key"]:
                    raise ValidationError("Give the key file's path.", field="key")
                target = replace(target, auth=SshAuth.key(values["key"]))
            elif kind == "password":
                password = Secret(self.query_one("#password", Input).value)
                target = replace(target, auth=SshAuth.with_password(password))
            elif kind == "stored":  # looked up (and permission-checked) by the SSH screen, in core
                target = replace(target, auth=SshAuth.stored())
        except ValueError:
            self.query_one("#error", Static).update("The port must be a number from 1 to 65535.")
            return
        except ValidationError as error:
            self.query_one("#error", Static).update(str(error))
            return
        self.dismiss(target)


class TargetChoiceDialog(ModalScreen):
    """Pick one of several SSH targets (a run's hosts); returns the target or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    TargetChoiceDialog { align: center middle; }
    TargetChoiceDialog > Vertical { width: 60; max-width: 95%; height: auto; max-height: 80%;
                                    border: thick $primary; padding: 1 2; background: $surface; }
    TargetChoiceDialog .title { text-style: bold; margin-bottom: 1; }
    TargetChoiceDialog OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, title: str, targets) -> None:
        super().__init__()
        self.title_text = title
        self.targets = list(targets)

    def compose(self) -> ComposeResult:
        from textual.content import Content

        with Vertical():
            yield Static(Content(self.title_text), classes="title")
            yield OptionList(*[Content(t.label) for t in self.targets])
            yield Static("enter opens a tab · escape cancels")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.targets[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
