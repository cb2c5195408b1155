"""Every role x operation cell, and services that enforce the matrix themselves."""

import pytest

from jumpdeck.core.errors import PermissionDenied
from jumpdeck.core.identity import PERMISSIONS, Actor, Operation, Role, UserStatus, can, require

ADMIN_ONLY = {Operation.MANAGE_SERVERS, Operation.RESTORE, Operation.ARCHIVE_ROLLOVER, Operation.MANAGE_POOL,
              Operation.MANAGE_USERS, Operation.EDIT_SETTINGS, Operation.ROTATE_KEY, Operation.VIEW_ALL_RESOURCES,
              Operation.MANAGE_SESSIONS}
STAFF = {Operation.CREATE_DATABASE, Operation.PROVISION, Operation.RUN_BACKUP}
EVERYONE = {Operation.VIEW, Operation.TEST_CONNECTION}


def expected(role: Role, op: Operation) -> bool:
    if op in EVERYONE:
        return True
    if op in STAFF:
        return role in (Role.ADMIN, Role.OPERATOR)
    assert op in ADMIN_ONLY
    return role is Role.ADMIN


def test_the_matrix_covers_every_operation() -> None:
    assert set(PERMISSIONS) == set(Operation) == ADMIN_ONLY | STAFF | EVERYONE


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("op", list(Operation))
def test_cell(role: Role, op: Operation) -> None:
    actor = Actor("u", role)
    assert can(actor, op) is expected(role, op)
    if expected(role, op):
        require(actor, op)
    else:
        with pytest.raises(PermissionDenied) as info:
            require(actor, op)
        assert "u (" + role.value + ")" in str(info.value) and "Only" in str(info.value)


@pytest.mark.parametrize("status", [UserStatus.PENDING, UserStatus.DISABLED])
@pytest.mark.parametrize("op", list(Operation))
def test_inactive_users_may_do_nothing_even_as_admin(status, op) -> None:
    with pytest.raises(PermissionDenied, match="approval|disabled"):
        require(Actor("u", Role.ADMIN, status), op)


async def test_services_enforce_the_rules(ctx, operator, viewer, pending) -> None:
    from jumpdeck.core.identity import Role
    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec

    registry = ServerRegistry(ctx.store, ctx.secrets)
    spec = ServerSpec(name="db1", db_type="postgresql", host="127.0.0.1", username="u", password=Secret("p"))
    for actor in (operator, viewer, pending):
        with pytest.raises(PermissionDenied):
            await registry.create(actor, spec)
        with pytest.raises(PermissionDenied):
            await ctx.settings.set(actor, {"system_notice": "x"})
        with pytest.raises(PermissionDenied):
            await ctx.users.add(actor, "mallory", Role.ADMIN)
    with pytest.raises(PermissionDenied):
        await registry.list(pending)
    assert await registry.list(viewer) == []
    # Nothing was written by the refused calls.
    page = await ctx.activity.page(ctx.actor)
    assert [e.action for e in page.entries] == ["REGISTER"]
