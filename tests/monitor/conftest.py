"""Fixtures of the monitor tests: one real node_exporter + Prometheus for the session."""

from __future__ import annotations

import pytest

from tests.conftest import service_unavailable
from tests.monitor.prom_stack import PromStack, binaries_missing


@pytest.fixture(scope="session")
def prom_stack(tmp_path_factory):
    missing = binaries_missing()
    if missing:
        service_unavailable(missing)
    stack = PromStack(tmp_path_factory.mktemp("prometheus"))
    try:
        stack.start_exporter()
        stack.start_prometheus()
        stack.wait_for_samples(1)
    except Exception:
        stack.stop()
        raise
    yield stack
    stack.stop()


@pytest.fixture
def prom(prom_stack):
    """The session's stack, running (a test that stopped Prometheus has restarted it)."""
    if prom_stack.prometheus is None:
        prom_stack.start_prometheus()
        prom_stack.wait_for_samples(1)
    return prom_stack
