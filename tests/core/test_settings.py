"""Settings: typed, validated, audited, admin-only (see test_permissions)."""

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from jumpdeck.core.errors import ValidationError
from jumpdeck.core.settings import SETTING_SPECS


async def test_defaults_set_and_audit(ctx) -> None:
    current = await ctx.settings.get()
    assert current.get("backup_retention_live") == 30 and current.get("maintenance_mode") is False
    updated = await ctx.settings.set(ctx.actor, {"maintenance_mode": "on", "system_notice": "patching tonight",
                                                 "cache_ttl": "120", "archive_cutoff_year": ""})
    assert updated.get("maintenance_mode") is True and updated.get("cache_ttl") == 120
    assert (await ctx.settings.get()).get("system_notice") == "patching tonight"
    page = await ctx.activity.page(ctx.actor)
    assert page.entries[0].action == "UPDATE" and "maintenance_mode" in page.entries[0].detail


async def test_one_bad_value_changes_nothing(ctx) -> None:
    with pytest.raises(ValidationError, match="backup_retention_live"):
        await ctx.settings.set(ctx.actor, {"system_notice": "x", "backup_retention_live": "0"})
    assert (await ctx.settings.get()).get("system_notice") == ""
    with pytest.raises(ValidationError, match="no setting named"):
        await ctx.settings.set(ctx.actor, {"colour": "red"})
    with pytest.raises(ValidationError, match="warning threshold"):
        await ctx.settings.set(ctx.actor, {"monitor_warning_pct": "96"})


@hsettings(max_examples=200, deadline=None)
@given(key=st.sampled_from(sorted(SETTING_SPECS)), raw=st.one_of(st.text(max_size=30), st.integers(), st.booleans(), st.none()))
def test_parse_gives_a_value_or_a_validation_error(key, raw) -> None:
    spec = SETTING_SPECS[key]
    try:
        value = spec.parse(raw)
    except ValidationError as error:
        assert key in str(error) or "valid value" in str(error)
        return
    if value is not None:
        assert isinstance(value, spec.kind)


@pytest.mark.parametrize("key,raw,words", [
    ("prometheus_url", "notaurl", "http(s) URL"),
    ("prometheus_url", "ftp://127.0.0.1:9090", "http(s) URL"),
    ("prometheus_url", "http://:9090", "http(s) URL"),
    ("poll_interval", "17", "one of 0, 30, 60, 300"),
    ("system_notice", "first line\nsecond line", "one line"),
    ("system_notice", "a tab\there", "one line"),
])
async def test_values_the_screens_cannot_use_are_refused_with_a_sentence(ctx, key, raw, words) -> None:
    before = (await ctx.settings.get()).get(key)
    with pytest.raises(ValidationError) as refused:
        await ctx.settings.set(ctx.actor, {key: raw})
    assert words in str(refused.value)
    assert (await ctx.settings.get()).get(key) == before


@pytest.mark.parametrize("key,raw,value", [
    ("prometheus_url", "https://prom.example:9090/prefix", "https://prom.example:9090/prefix"),
    ("poll_interval", "300", 300), ("poll_interval", "0", 0),
    ("system_notice", "Patch night 22:00 – 서버 점검", "Patch night 22:00 – 서버 점검"),
])
async def test_values_the_screens_use_are_taken(ctx, key, raw, value) -> None:
    assert (await ctx.settings.set(ctx.actor, {key: raw})).get(key) == value
