"""The registry's rules (seed 000 §3-§5) over a real store."""

from __future__ import annotations

import pytest

from jumpdeck.core.activity import ActivityFilter
from jumpdeck.core.errors import Conflict, NotFound, PermissionDenied
from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec, spec_from_info


@pytest.fixture
def registry(ctx) -> ServerRegistry:
    return ServerRegistry(ctx.store, ctx.secrets)


def spec(**changes) -> ServerSpec:
    values = dict(name="erp-prod", db_type="mssql", host="10.0.0.5", username="sa", password=Secret("pw-1"))
    values.update(changes)
    return ServerSpec(**values)


async def test_create_applies_type_defaults_and_hides_the_password(ctx, registry) -> None:
    info = await registry.create(ctx.actor, spec())
    assert (info.port, info.default_db, info.has_password) == (1433, "master", True)
    assert "pw-1" not in repr(info)
    creds = await registry.credentials(ctx.actor, info.id)
    assert creds.password.reveal() == "pw-1"


async def test_names_are_unique_trimmed_and_case_insensitive(ctx, registry) -> None:
    await registry.create(ctx.actor, spec())
    with pytest.raises(Conflict, match="already exists"):
        await registry.create(ctx.actor, spec(name="  ERP-Prod "))


async def test_a_blank_password_on_update_keeps_the_stored_one(ctx, registry) -> None:
    info = await registry.create(ctx.actor, spec())
    updated = await registry.update(ctx.actor, info.id, spec_from_info(info, port=1533))
    assert updated.port == 1533
    assert (await registry.credentials(ctx.actor, info.id)).password.reveal() == "pw-1"
    await registry.update(ctx.actor, info.id, spec_from_info(updated, password=Secret("pw-2")))
    assert (await registry.credentials(ctx.actor, info.id)).password.reveal() == "pw-2"


async def test_delete_is_refused_while_corp_dbs_live_on_the_server(ctx, registry) -> None:
    from jumpdeck.core.store.models import CorpRow

    info = await registry.create(ctx.actor, spec())
    await ctx.store.run(lambda s: s.add_all([CorpRow(server_id=info.id, code=c, name=c, db_name=c) for c in "ab"]))
    with pytest.raises(Conflict, match="has 2 corp DBs. Detach or drop them first"):
        await registry.delete(ctx.actor, info.id)
    await ctx.store.run(lambda s: s.query(CorpRow).delete())
    await registry.delete(ctx.actor, info.id)
    with pytest.raises(NotFound):
        await registry.get(ctx.actor, info.id)


async def test_mutations_are_admin_only_and_audited_without_secrets(ctx, registry, operator) -> None:
    info = await registry.create(ctx.actor, spec())
    with pytest.raises(PermissionDenied, match="Only an admin"):
        await registry.update(operator, info.id, spec_from_info(info))
    with pytest.raises(PermissionDenied):
        await registry.delete(operator, info.id)
    await registry.update(ctx.actor, info.id, spec_from_info(info, password=Secret("pw-2"), description="ERP"))
    await registry.delete(ctx.actor, info.id)
    page = await ctx.activity.page(ctx.actor, ActivityFilter(target_type="SERVER"))
    assert [e.action for e in page.entries] == ["DELETE", "UPDATE", "CREATE"]
    assert "password changed" in page.entries[1].detail
    assert all("pw-" not in e.detail for e in page.entries)


async def test_list_carries_corp_counts(ctx, registry) -> None:
    from jumpdeck.core.store.models import CorpRow

    info = await registry.create(ctx.actor, spec())
    await ctx.store.run(lambda s: s.add_all([
        CorpRow(server_id=info.id, code="a", name="A", db_name="a", status="warning"),
        CorpRow(server_id=info.id, code="b", name="B", db_name="b", status="error"),
        CorpRow(server_id=info.id, code="c", name="C", db_name="c"),
    ]))
    [listed] = await registry.list(ctx.actor)
    assert (listed.corp_count, listed.corp_warnings, listed.corp_errors) == (3, 1, 1)
