"""The activity log: keyset paging, filters, and constant cost at 100k rows."""

from datetime import datetime

from jumpdeck.core.activity import ActivityFilter


def _bulk(ctx, n: int) -> None:
    from jumpdeck.core.store.models import ActivityRow

    def insert(session) -> None:
        session.execute(ActivityRow.__table__.insert(), [
            {"at": datetime(2026, 1, 1), "actor": f"user{i % 7}", "origin": "local",
             "action": ("CREATE", "UPDATE", "DELETE")[i % 3], "target_type": ("SERVER", "USER")[i % 2],
             "target_id": str(i), "detail": f"entry number {i}"} for i in range(n)
        ])

    ctx.store.run_sync(insert)


async def test_pages_walk_everything_once_newest_first(ctx) -> None:
    _bulk(ctx, 1000)
    seen, before = [], None
    while True:
        page = await ctx.activity.page(ctx.actor, before_id=before, limit=150)
        seen.extend(e.id for e in page.entries)
        if not page.has_more:
            break
        before = page.next_before_id
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 1001


async def test_filters_combine(ctx) -> None:
    _bulk(ctx, 300)
    page = await ctx.activity.page(ctx.actor, ActivityFilter(actor="user3", action="update", target_type="server"), limit=500)
    assert page.entries and all(e.actor == "user3" and e.action == "UPDATE" and e.target_type == "SERVER" for e in page.entries)
    expected = [i for i in range(300) if i % 7 == 3 and i % 3 == 1 and i % 2 == 0]
    assert sorted(int(e.target_id) for e in page.entries) == expected
    text = await ctx.activity.page(ctx.actor, ActivityFilter(text="number 42"), limit=50)
    assert {e.detail for e in text.entries} == {"entry number 42"}


async def test_query_plan_uses_the_indexes_at_100k(ctx) -> None:
    _bulk(ctx, 100_000)
    from sqlalchemy import text

    with ctx.store.engine.connect() as conn:
        plan = " ".join(r[-1] for r in conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT * FROM activity_log WHERE actor = 'user1' AND id < 5000 ORDER BY id DESC LIMIT 201")))
    assert "ix_activity_actor_id" in plan and "TEMP B-TREE" not in plan
    page = await ctx.activity.page(ctx.actor, ActivityFilter(actor="user1"), before_id=5000, limit=200)
    assert len(page.entries) == 200 and page.entries[0].id < 5000


async def test_every_row_names_the_host_it_came_from(ctx) -> None:
    """A log shared by several jump hosts tells them apart: local rows say `local@HOST`."""
    import socket

    from jumpdeck.core.activity import ActivityFilter

    await ctx.settings.set(ctx.actor, {"system_notice": "hello"})
    page = await ctx.activity.page(ctx.actor, ActivityFilter(), limit=10)
    assert page.entries and {e.origin for e in page.entries} == {f"local@{socket.gethostname()}"}
