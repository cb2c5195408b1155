"""Property tests of the registry's validation: whatever an operator, a CSV cell or a
JSON value puts in a field, `validate` gives a normalised spec or a ValidationError
naming the field, never another exception; and a normalised spec is a fixed point."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jumpdeck.core.errors import Conflict, ValidationError
from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.registry import TYPE_DEFAULTS, DbType, ServerRegistry, ServerSpec, name_key, validate

FIELDS = {"name", "db_type", "host", "port", "username", "password", "default_db", "description", "tags",
          "group", "data_path", "log_path", "is_active"}

anything = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**6, max_value=10**6), st.floats(allow_nan=True),
    st.text(max_size=120), st.binary(max_size=10), st.lists(st.text(max_size=10), max_size=3),
    st.sampled_from(list(DbType)), st.just(Secret("x")), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
plausible_text = st.one_of(st.text(max_size=60), st.from_regex(r"\s*[A-Za-z0-9._-]{1,30}\s*", fullmatch=True))
db_types = st.one_of(st.sampled_from([t.value for t in DbType] + [t.value.upper() for t in DbType]),
                     st.sampled_from(list(DbType)), st.text(max_size=12))
ports = st.one_of(st.none(), st.integers(min_value=-5, max_value=70000), st.text(max_size=7),
                  st.integers(min_value=1, max_value=65535).map(str))
hosts = st.one_of(plausible_text, st.ip_addresses().map(str), st.just("db.example.com"))
tags = st.one_of(st.lists(plausible_text, max_size=4).map(tuple), st.text(max_size=30), st.none())


def spec_strategy(field_values: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(
        ServerSpec,
        name=field_values("name", plausible_text), db_type=field_values("db_type", db_types),
        host=field_values("host", hosts), username=field_values("username", plausible_text),
        password=field_values("password", st.one_of(st.text(max_size=20).map(Secret), st.text(max_size=20))),
        port=field_values("port", ports),
        default_db=field_values("default_db", st.one_of(st.none(), plausible_text)),
        description=field_values("description", st.text(max_size=80)), tags=field_values("tags", tags),
        group=field_values("group", st.text(max_size=20)),
        data_path=field_values("data_path", st.one_of(st.none(), st.text(max_size=20))),
        log_path=field_values("log_path", st.one_of(st.none(), st.text(max_size=20))),
        is_active=field_values("is_active", st.booleans()),
    )


def _plausible(_name: str, strategy: st.SearchStrategy) -> st.SearchStrategy:
    return strategy


def _wild(_name: str, strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(strategy, anything)


def check_outcome(spec: ServerSpec, creating: bool) -> ServerSpec | None:
    try:
        out = validate(spec, creating=creating)
    except ValidationError as error:
        assert error.field in FIELDS, error.field
        assert str(error).strip() and "Traceback" not in str(error)
        return None
    assert isinstance(out.name, str) and out.name == out.name.strip() and 0 < len(out.name) <= 100
    assert out.db_type in {t.value for t in DbType}
    assert isinstance(out.port, int) and 1 <= out.port <= 65535
    assert isinstance(out.host, str) and out.host and isinstance(out.username, str) and out.username
    assert isinstance(out.password, Secret) and (out.password or not creating)
    assert isinstance(out.default_db, str)
    if TYPE_DEFAULTS[DbType(out.db_type)].db_required:
        assert out.default_db
    assert isinstance(out.tags, tuple) and all(isinstance(t, str) and t for t in out.tags)
    assert len(set(out.tags)) == len(out.tags)
    assert validate(out, creating=creating) == out  # normalising twice changes nothing
    return out


@settings(max_examples=400, deadline=None)
@given(spec=spec_strategy(_plausible), creating=st.booleans())
def test_plausible_input_is_normalised_or_refused_with_a_field(spec, creating) -> None:
    check_outcome(spec, creating)


@settings(max_examples=400, deadline=None)
@given(spec=spec_strategy(_wild), creating=st.booleans())
def test_any_value_in_any_field_never_raises_anything_but_validation_error(spec, creating) -> None:
    check_outcome(spec, creating)


@given(db_type=st.sampled_from(list(DbType)))
def test_the_db_type_sets_port_and_default_db(db_type) -> None:
    spec = ServerSpec(name="x", db_type=db_type, host="h", username="u", password=Secret("p"),
                      default_db="ORCL" if db_type is DbType.ORACLE else None)
    out = validate(spec, creating=True)
    assert out.port == TYPE_DEFAULTS[db_type].port
    if db_type is not DbType.ORACLE:
        assert out.default_db == TYPE_DEFAULTS[db_type].default_db


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=spec_strategy(_wild))
def test_create_saves_or_refuses_clearly(ctx, spec) -> None:
    """Through the real store: a saved server, a validation error, or a name clash."""
    registry = ServerRegistry(ctx.store, ctx.secrets)
    try:
        info = asyncio.run(registry.create(ctx.actor, spec))
    except (ValidationError, Conflict) as error:
        assert str(error)
        return
    assert info.id > 0 and info.has_password
    assert name_key(info.name) == name_key(validate(spec, creating=True).name)
