"""The Users screen: who may use jumpdeck, with which role, and their SSH keys.
Admins add, activate, disable and change roles; everyone else sees the list read-only.
The rules live in core (`UserService`); keys here are only shown disabled with the reason."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from jumpdeck.core.identity import Operation, Role, can, denial
from jumpdeck.core.users import User
from jumpdeck.tui.plain import cells
from jumpdeck.core.words import counted
from jumpdeck.tui.screens.base import JumpdeckScreen
from jumpdeck.tui.styles import stylesheet

ADMIN_ACTIONS = {"add", "activate", "disable", "role", "add_key", "remove_key"}


class UsersScreen(JumpdeckScreen):
    TITLE = "Users"
    CSS_PATH = stylesheet(__package__, "users.tcss")
    BINDINGS = [
        Binding("a", "add", "Add", id="users.add"),
        Binding("enter", "activate", "Activate", id="users.activate"),
        Binding("x", "disable", "Disable", id="users.disable"),
        Binding("o", "role", "Role", id="users.role"),
        Binding("k", "add_key", "Add key", id="users.add_key"),
        Binding("K", "remove_key", "Remove key", id="users.remove_key"),
        Binding("r", "reload", "Reload", id="users.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.users: list[User] = []

    def compose_body(self) -> ComposeResult:
        yield Static("", id="users-role-note")
        yield DataTable(id="users-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="users-status")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Name", key="name", width=20)
        table.add_column("Role", key="role", width=9)
        table.add_column("Status", key="status", width=9)
        table.add_column("Since", key="since", width=10)
        table.add_column("SSH keys", key="keys")
        note = self.query_one("#users-role-note", Static)
        if not can(self.ctx.actor, Operation.MANAGE_USERS):
            note.update(denial(self.ctx.actor, Operation.MANAGE_USERS) or "")
        note.display = not can(self.ctx.actor, Operation.MANAGE_USERS)
        table.focus()
        self.watch_store({"users", "user_keys"}, lambda _changed: self.reload())
        self.reload()

    @work(exclusive=True, group="users-load")
    async def reload(self) -> None:
        self.users = await self.ctx.users.list(self.ctx.actor)
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for user in self.users:
            keys = ", ".join(k.fingerprint[:22] + "…" for k in user.keys) or "-"
            table.add_row(*cells([user.name, user.role.value, user.status.value, f"{user.created_at:%Y-%m-%d}", keys]),
                          key=user.name)
        if self.users:
            table.move_cursor(row=min(max(row, 0), len(self.users) - 1))
        pending = sum(1 for u in self.users if u.status.value == "pending")
        self.query_one("#users-status", Static).update(
            counted(len(self.users), "user") + (f", {pending} waiting for approval (enter activates)" if pending else "")
        )
        self.refresh_bindings()

    async def on_data_table_row_selected(self) -> None:
        # The table owns enter; a selected row means "activate" here.
        if can(self.ctx.actor, Operation.MANAGE_USERS):
            await self.action_activate()
        else:
            self.notify(denial(self.ctx.actor, Operation.MANAGE_USERS) or "", severity="warning")

    def _selected(self) -> User | None:
        table = self.query_one(DataTable)
        if 0 <= table.cursor_row < len(self.users):
            return self.users[table.cursor_row]
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ADMIN_ACTIONS and not can(self.ctx.actor, Operation.MANAGE_USERS):
            return None  # shown disabled; `?` explains why
        return True

    def disabled_reason(self, action: str) -> str | None:
        return denial(self.ctx.actor, Operation.MANAGE_USERS) if action in ADMIN_ACTIONS else None

    def copy_text(self) -> str | None:
        user = self._selected()
        return user.name if user else None

    def action_reload(self) -> None:
        self.reload()

    def action_add(self) -> None:
        from jumpdeck.tui.screens.user_form import UserForm

        def added(name: str | None) -> None:
            if name:
                self.reload()

        self.app.push_screen(UserForm(), added)

    async def _change(self, verb: str) -> None:
        user = self._selected()
        if user is None:
            return
        service = self.ctx.users
        calls = {"activate": service.activate, "disable": service.disable}
        result = await self.call_core(lambda: calls[verb](self.ctx.actor, user.name))
        if result is not None:
            self.notify(f"{result.name} is now {result.status.value}.")
            self.reload()

    async def action_activate(self) -> None:
        await self._change("activate")

    def action_disable(self) -> None:
        user = self._selected()
        if user is None:
            return
        from jumpdeck.tui.screens.confirm import ConfirmScreen

        async def answer(yes: bool | None) -> None:
            if yes:
                await self._change("disable")

        self.app.push_screen(
            ConfirmScreen("Disable user?", f"Disable '{user.name}' ({user.role.value})? They lose access at once, "
                          "including over serve-ssh.", confirm_label="Disable"), answer)

    def action_role(self) -> None:
        """Cycle viewer → operator → admin → viewer, each step confirmed with the user's
        name and both roles (a role is what someone may do: never one stray key)."""
        user = self._selected()
        if user is None:
            return
        from jumpdeck.tui.screens.confirm import ConfirmScreen

        order = [Role.VIEWER, Role.OPERATOR, Role.ADMIN]
        new_role = order[(order.index(user.role) + 1) % len(order)]

        async def answer(yes: bool | None) -> None:
            if not yes:
                return
            result = await self.call_core(lambda: self.ctx.users.set_role(self.ctx.actor, user.name, new_role))
            if result is not None:
                self.notify(f"{result.name} is now {result.role.value}.")
                self.reload()

        what = {Role.ADMIN: "Admins manage users, keys and settings.",
                Role.OPERATOR: "Operators change servers and run provisioning.",
                Role.VIEWER: "Viewers only look."}[new_role]
        self.app.push_screen(
            ConfirmScreen(f"Make {user.name} {new_role.value}?",
                          f"Change {user.name}'s role from {user.role.value} to {new_role.value}? {what} "
                          f"(o again on the next role.)", confirm_label=f"Make {new_role.value}",
                          danger=new_role is Role.ADMIN or user.role is Role.ADMIN), answer)

    def action_add_key(self) -> None:
        user = self._selected()
        if user is None:
            return
        from jumpdeck.tui.screens.user_form import KeyForm

        def added(ok: bool | None) -> None:
            if ok:
                self.reload()

        self.app.push_screen(KeyForm(user.name), added)

    def action_remove_key(self) -> None:
        """Pick one of the user's keys, then confirm naming its fingerprint."""
        user = self._selected()
        if user is None:
            return
        if not user.keys:
            self.notify(f"{user.name} has no SSH key.", severity="warning")
            return
        from jumpdeck.tui.screens.confirm import ConfirmScreen
        from jumpdeck.tui.screens.user_form import KeyChoice

        def chosen(fingerprint: str | None) -> None:
            if not fingerprint:
                return

            async def answer(yes: bool | None) -> None:
                if not yes:
                    return
                result = await self.call_core(lambda: self.ctx.users.remove_key(self.ctx.actor, user.name, fingerprint))
                if result is not None:
                    self.notify(f"Removed key {fingerprint} from {user.name}.")
                    self.reload()

            self.app.push_screen(ConfirmScreen(
                "Remove SSH key?", f"Remove key {fingerprint} from {user.name}? serve-ssh refuses it from now on, "
                "and a session it opened ends.", confirm_label="Remove"), answer)

        self.app.push_screen(KeyChoice(user.name, [(k.fingerprint, k.comment) for k in user.keys]), chosen)
