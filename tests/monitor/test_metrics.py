"""The monitor against a real node_exporter and Prometheus on loopback ports."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from jumpdeck.core.monitor.prometheus import PrometheusClient, PrometheusError, PrometheusProblem, instance_regex
from jumpdeck.core.monitor.service import Level, MonitorService, Reading, Thresholds, sort_worst_first
from tests.monitor.prom_stack import free_port
from tests.monitor.rows import add_run


async def _point_at(ctx, prom, **extra) -> None:
    await ctx.settings.set(ctx.actor, {"prometheus_url": prom.url,
                                       "prometheus_instance": "{ip}:" + str(prom.exporter_port), **extra})


def _counting_hooks() -> tuple[dict, list]:
    seen: list[str] = []

    async def on_request(request) -> None:  # noqa: ANN001
        seen.append(request.url.path)

    return {"request": [on_request]}, seen


async def test_live_vm_has_numbers_within_0_100(ctx, prom):
    await _point_at(ctx, prom)
    await add_run(ctx, service="web", created_by="admin", vms=[("WKLD-01", "127.0.0.1")])
    service = MonitorService(ctx)
    try:
        for history in (False, True):
            snap = await service.snapshot(history=history)
            assert snap.problem is None, snap.message
            (row,) = snap.rows
            assert row.instance == prom.exporter_instance
            for metric, reading in row.readings().items():
                assert reading.value is not None, metric
                assert 0 <= reading.value <= 100, (metric, reading.value)
            assert row.state in (Level.OK, Level.WARNING, Level.CRITICAL)
        assert len(row.cpu.history) == 32 and row.cpu.history[-1] == row.cpu.value
        assert all(v is None or 0 <= v <= 100 for v in row.disk.history)
    finally:
        await service.aclose()


async def test_vm_without_series_reads_no_data_while_others_show(ctx, prom):
    await _point_at(ctx, prom)
    await add_run(ctx, service="web", created_by="admin", vms=[("live", "127.0.0.1"), ("silent", "127.0.0.2")])
    service = MonitorService(ctx)
    try:
        snap = await service.snapshot(history=True)
    finally:
        await service.aclose()
    rows = {row.resource.vm_name: row for row in snap.rows}
    assert snap.problem is None
    assert rows["silent"].state is Level.NO_DATA
    assert rows["silent"].cpu.value is None and rows["silent"].cpu.history == ()
    assert rows["live"].state is not Level.NO_DATA and rows["live"].mem.value is not None
    assert "1 with no data" in snap.message
    assert not snap.healthy


async def test_operator_scope_reaches_prometheus_too(ctx, prom, operator):
    await _point_at(ctx, prom)
    await add_run(ctx, service="mine", created_by="oper", vms=[("own", "127.0.0.1")])
    await add_run(ctx, service="theirs", created_by="someone", vms=[("other", "127.0.0.3")])
    service = MonitorService(replace(ctx, actor=operator))
    try:
        snap = await service.snapshot()
    finally:
        await service.aclose()
    assert [row.resource.vm_name for row in snap.rows] == ["own"]
    assert snap.rows[0].cpu.value is not None


async def test_request_count_does_not_grow_with_the_fleet(ctx, prom):
    await _point_at(ctx, prom)
    hooks, seen = _counting_hooks()
    service = MonitorService(ctx, event_hooks=hooks)
    try:
        await add_run(ctx, service="one", created_by="admin", vms=[("vm-0", "127.0.0.1")])
        counts = {}
        for size in (1, 500):
            if size == 500:
                await add_run(ctx, service="many", created_by="admin",
                              vms=[(f"vm-{i}", f"127.1.{i // 250}.{i % 250}") for i in range(1, 500)])
            for history in (False, True):
                seen.clear()
                snap = await service.snapshot(history=history)
                assert snap.problem is None and len(snap.rows) == size
                counts[size, history] = len(seen)
                assert snap.requests == len(seen)
        assert counts[1, False] == counts[500, False] == 3
        # A new set of instances: 3 instant + 3 range queries, whatever its size.
        assert counts[1, True] == counts[500, True] == 6
        assert sorted(seen) == ["/api/v1/query"] * 3 + ["/api/v1/query_range"] * 3
        # The hour's series are reused until the 2-minute grid moves on.
        seen.clear()
        again = await service.snapshot(history=True)
        assert len(seen) in (3, 6) and len(again.rows) == 500
        assert all(row.cpu.history == () or len(row.cpu.history) == 32 for row in again.rows)
    finally:
        await service.aclose()


async def test_prometheus_stopped_mid_run_then_back(ctx, prom):
    await _point_at(ctx, prom)
    await add_run(ctx, service="web", created_by="admin", vms=[("WKLD-01", "127.0.0.1")])
    service = MonitorService(ctx)
    try:
        assert (await service.snapshot()).problem is None
        prom.stop_prometheus()
        down = await service.snapshot()
        assert down.problem is PrometheusProblem.UNREACHABLE
        assert down.message == f"Prometheus unreachable at {prom.url}: connection refused."
        assert [row.state for row in down.rows] == [Level.UNREACHABLE]
        assert down.rows[0].cpu.value is None and not down.healthy
        prom.start_prometheus()
        prom.wait_for_samples(1)
        back = await service.snapshot()
        assert back.problem is None and back.rows[0].mem.value is not None
    finally:
        if prom.prometheus is None:
            prom.start_prometheus()
        await service.aclose()


async def test_not_configured_says_how_to_set_it(ctx):
    await add_run(ctx, service="web", created_by="admin", vms=[("WKLD-01", "127.0.0.1")])
    service = MonitorService(ctx)
    snap = await service.snapshot()
    assert snap.problem is PrometheusProblem.NOT_CONFIGURED
    assert "jumpdeck settings set prometheus_url http" in snap.remedy and "JUMPDECK_PROMETHEUS_URL" in snap.remedy
    assert snap.requests == 0 and [row.state for row in snap.rows] == [Level.UNKNOWN]


async def test_config_url_wins_over_the_setting(ctx, prom):
    await ctx.settings.set(ctx.actor, {"prometheus_url": f"http://127.0.0.1:{free_port()}",
                                       "prometheus_instance": "{ip}:" + str(prom.exporter_port)})
    await add_run(ctx, service="web", created_by="admin", vms=[("WKLD-01", "127.0.0.1")])
    service = MonitorService(replace(ctx, config=replace(ctx.config, prometheus_url=prom.url)))
    try:
        snap = await service.snapshot()
    finally:
        await service.aclose()
    assert (snap.problem, snap.url_origin, snap.url) == (None, "config", prom.url)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:9090", "127.0.0.1:9090", "http://127.0.0.1:port", "http:///x"])
def test_bad_url_is_its_own_state(url):
    with pytest.raises(PrometheusError) as info:
        PrometheusClient(url)
    assert info.value.problem is PrometheusProblem.BAD_URL
    assert "http://" in str(info.value)


async def test_wrong_path_is_an_http_error_with_a_remedy(prom):
    async with PrometheusClient(prom.url + "/not-here") as client:
        with pytest.raises(PrometheusError) as info:
            await client.query("up")
    assert info.value.problem is PrometheusProblem.HTTP_ERROR and info.value.status_code == 404
    assert "answered HTTP 404" in info.value.message and "base URL" in info.value.remedy


async def test_bad_query_is_a_query_error(prom):
    async with PrometheusClient(prom.url) as client:
        with pytest.raises(PrometheusError) as info:
            await client.query("rate(")
    assert info.value.problem is PrometheusProblem.QUERY_ERROR and info.value.status_code == 400


async def test_something_else_at_the_url_is_not_prometheus(prom):
    async with PrometheusClient(f"http://{prom.exporter_instance}") as client:
        with pytest.raises(PrometheusError) as info:
            await client.query("up")
    assert info.value.problem in (PrometheusProblem.BAD_RESPONSE, PrometheusProblem.HTTP_ERROR)
    assert prom.exporter_instance in info.value.message


class _Answer503(BaseHTTPRequestHandler):
    # Prometheus answers 503 only when overloaded; this loopback server stands in for that.
    def do_POST(self) -> None:  # noqa: N802
        self.send_response(503)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"overloaded")

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


async def test_5xx_is_an_http_error():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer503)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        async with PrometheusClient(f"http://127.0.0.1:{server.server_port}") as client:
            with pytest.raises(PrometheusError) as info:
                await client.query("up")
    finally:
        server.shutdown()
        server.server_close()
    assert info.value.problem is PrometheusProblem.HTTP_ERROR and info.value.status_code == 503
    assert "HTTP 503" in info.value.message


async def test_silent_server_times_out():
    # A socket that accepts connections (the kernel's backlog) but never answers.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        async with PrometheusClient(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.3) as client:
            with pytest.raises(PrometheusError) as info:
                await asyncio.wait_for(client.query("up"), 10)
    finally:
        listener.close()
    assert info.value.problem is PrometheusProblem.TIMEOUT
    assert "did not answer within 0.3 s" in info.value.message


async def test_password_in_url_never_shows():
    port = free_port()
    async with PrometheusClient(f"http://ops:hunter2@127.0.0.1:{port}") as client:
        with pytest.raises(PrometheusError) as info:
            await client.query("up")
    assert "hunter2" not in str(info.value) and f"127.0.0.1:{port}" in str(info.value)


def test_instance_regex_is_exact_and_escaped():
    assert instance_regex(["127.0.0.1:9100", "a(b)"]) == r"127\\.0\\.0\\.1:9100|a\\(b\\)"


def test_thresholds_and_worst_first():
    t = Thresholds(80, 95)
    assert [t.level(v) for v in (None, 10, 80, 94.9, 95, 100)] == [
        Level.NO_DATA, Level.OK, Level.WARNING, Level.WARNING, Level.CRITICAL, Level.CRITICAL]
    assert sort_worst_first([]) == []


async def test_unusable_instance_template_is_a_stated_problem(ctx, prom):
    await ctx.settings.set(ctx.actor, {"prometheus_url": prom.url, "prometheus_instance": "{hostname}:9100"})
    await add_run(ctx, service="web", created_by="admin", vms=[("WKLD-01", "127.0.0.1")])
    service = MonitorService(ctx)
    snap = await service.snapshot()
    await service.aclose()
    assert snap.problem is PrometheusProblem.QUERY_ERROR and "{hostname}:9100" in snap.message
    assert [row.state for row in snap.rows] == [Level.UNKNOWN] and snap.requests == 0


@hsettings(max_examples=300, deadline=None)
@given(value=st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False)),
       level=st.sampled_from(list(Level)), spark=st.booleans(), ascii_only=st.booleans(),
       history=st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=100)), max_size=32))
def test_metric_width_is_the_width_of_the_drawn_cell(value, level, spark, ascii_only, history) -> None:  # noqa: ANN001
    """The Monitor gives the table widths without drawing cells; a wrong width would
    cut a value or shift every column after it."""
    from rich.cells import cell_len

    from jumpdeck.tui.widgets.metric_cell import metric_text, metric_width

    reading = Reading(value, level, tuple(history))
    assert metric_width(reading, spark=spark) == cell_len(metric_text(reading, ascii_only=ascii_only, spark=spark).plain)


@hsettings(max_examples=200, deadline=None)
@given(form=st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=60), min_size=1, max_size=4))
def test_form_body_is_what_httpx_would_send(form) -> None:  # noqa: ANN001
    """The client encodes its forms itself (cached: a fleet's query is tens of KB);
    Prometheus must receive exactly the form httpx's `data=` would have sent."""
    from urllib.parse import parse_qsl

    from jumpdeck.core.monitor.prometheus import form_body

    assert dict(parse_qsl(form_body(form).decode("ascii"), keep_blank_values=True)) == form
