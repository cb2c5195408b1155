"""MySQL connections share one TLS context through PyMySQL's private `_create_ssl_ctx`
(core/servers/drivers/mysql.py). These tests fail when an upgraded PyMySQL changes it,
and show that a PyMySQL without it gets its own behaviour: a fresh context each time."""

from __future__ import annotations

import ssl

import pytest
from pymysql.connections import Connection

from jumpdeck.core.servers.drivers import mysql


@pytest.fixture(autouse=True)
def fresh_class(monkeypatch):
    monkeypatch.setattr(mysql, "_connection_class", None)


def test_preferred_tls_gets_the_shared_context_with_pymysqls_own_settings():
    assert mysql._builds_its_own_context(Connection)
    shared = mysql._connection_cls()(defer_connect=True)
    own = Connection(defer_connect=True)  # PyMySQL's preferred mode, as it builds it
    assert shared.ctx is mysql.shared_tls_context() is mysql._connection_cls()(defer_connect=True).ctx
    assert own.ctx is not shared.ctx
    # Preferred, not required: a server without TLS is still served.
    assert shared.ssl and not shared._ssl_required and not own._ssl_required
    for context in (shared.ctx, own.ctx):
        assert isinstance(context, ssl.SSLContext)
        assert (context.check_hostname, context.verify_mode) == (False, ssl.CERT_NONE)


def test_explicit_tls_options_still_get_pymysqls_context():
    conn = mysql._connection_cls()(defer_connect=True, ssl_verify_cert=True)
    assert conn.ctx is not mysql.shared_tls_context() and conn.ctx.verify_mode == ssl.CERT_REQUIRED


def test_a_pymysql_with_another_hook_gets_its_own_behaviour(monkeypatch, caplog):
    create = Connection._create_ssl_ctx
    # As if a later PyMySQL had changed the hook's signature.
    monkeypatch.setattr(Connection, "_create_ssl_ctx", lambda self, options: create(self, options))
    caplog.set_level("WARNING", logger=mysql.__name__)
    assert mysql._connection_cls() is Connection
    assert "builds its own" in caplog.text
    conn = mysql._connection_cls()(defer_connect=True)
    assert conn.ctx is not mysql.shared_tls_context()
