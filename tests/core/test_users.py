"""Users: first admin, pending newcomers, approval, roles, keys, last-admin guard."""

import subprocess

import pytest

from jumpdeck.core.errors import Conflict, NotFound, ValidationError
from jumpdeck.core.identity import Role, UserStatus
from jumpdeck.core.users import parse_public_key


async def test_first_user_is_admin_then_newcomers_wait(ctx) -> None:
    assert ctx.actor.role is Role.ADMIN and ctx.actor.status is UserStatus.ACTIVE
    bob = await ctx.users.resolve_local("bob")
    assert (bob.role, bob.status) == (Role.VIEWER, UserStatus.PENDING)
    again = await ctx.users.resolve_local("bob", origin="ssh:127.0.0.1")
    assert again.status is UserStatus.PENDING and again.origin == "ssh:127.0.0.1"
    await ctx.users.activate(ctx.actor, "bob")
    assert (await ctx.users.resolve_local("bob")).status is UserStatus.ACTIVE


async def test_admin_adds_sets_role_disables(ctx) -> None:
    kim = await ctx.users.add(ctx.actor, "kim", Role.OPERATOR)
    assert kim.status is UserStatus.ACTIVE
    assert (await ctx.users.set_role(ctx.actor, "kim", Role.ADMIN)).role is Role.ADMIN
    assert (await ctx.users.disable(ctx.actor, "kim")).status is UserStatus.DISABLED
    with pytest.raises(Conflict):
        await ctx.users.add(ctx.actor, "kim", Role.VIEWER)
    with pytest.raises(NotFound):
        await ctx.users.activate(ctx.actor, "nobody")
    with pytest.raises(ValidationError):
        await ctx.users.add(ctx.actor, "bad name!", Role.VIEWER)


async def test_the_last_active_admin_cannot_be_removed(ctx) -> None:
    with pytest.raises(Conflict, match="last active admin"):
        await ctx.users.set_role(ctx.actor, "admin", Role.VIEWER)
    with pytest.raises(Conflict, match="last active admin"):
        await ctx.users.disable(ctx.actor, "admin")
    await ctx.users.add(ctx.actor, "second", Role.ADMIN)
    assert (await ctx.users.set_role(ctx.actor, "admin", Role.OPERATOR)).role is Role.OPERATOR


def _keygen(tmp_path, name: str) -> str:
    path = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text()


async def test_keys_by_fingerprint_match_openssh(ctx, tmp_path) -> None:
    text = _keygen(tmp_path, "k1")
    key = parse_public_key(text)
    fp = subprocess.run(["ssh-keygen", "-l", "-f", str(tmp_path / "k1.pub")], capture_output=True, text=True).stdout.split()[1]
    assert key.fingerprint == fp and key.comment == "k1@test"
    await ctx.users.add(ctx.actor, "kim", Role.OPERATOR, [key])
    found = await ctx.users.find_by_fingerprint(fp)
    assert found is not None and found.name == "kim"
    await ctx.users.add(ctx.actor, "lee", Role.VIEWER)
    with pytest.raises(Conflict, match="already belongs to 'kim'"):
        await ctx.users.add_key(ctx.actor, "lee", key)


@pytest.mark.parametrize("text", ["", "hello", "ssh-ed25519", "ssh-ed25519 !!!notbase64", "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIB"])
def test_bad_keys_are_refused_with_a_sentence(text) -> None:
    with pytest.raises(ValidationError):
        parse_public_key(text)
