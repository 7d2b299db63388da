"""proxy_addons.metrics driven through mitmproxy's taddons: options, server lifecycle, HTTP scrape."""
import socket
import urllib.request

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from agent import metrics as m
from proxy_addons.metrics import Metrics
from tests.metrics.helpers import parse_scrape
from tests.support import free_port


def get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        return resp.read().decode()


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_defaults():
    addon = Metrics()
    with taddons.context(addon) as tctx:
        assert tctx.options.crossingguard_metrics_port == 9464
        assert tctx.options.crossingguard_metrics_host == "127.0.0.1"


@pytest.mark.parametrize("port", [-1, 65536, 100000])
def test_bad_port_is_an_options_error(port):
    addon = Metrics()
    with taddons.context(addon) as tctx:
        with pytest.raises(exceptions.OptionsError, match="crossingguard_metrics_port"):
            tctx.configure(addon, crossingguard_metrics_port=port)


def test_serves_counters_then_stops():
    port = free_port()
    addon = Metrics()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, crossingguard_metrics_port=port)
        addon.running()
        try:
            m.COUNTERS.inc(m.ADDON_ERRORS, "metrics_addon_test")
            s = parse_scrape(get(port))
            assert s.value("crossingguard_addon_errors_total", addon="metrics_addon_test") >= 1
            assert "process_cpu_seconds_total" in s.samples
            assert s.value("crossingguard_build_info") == 1
            addon.running()          # a second running() must not start a second server
        finally:
            addon.done()
    assert not listening(port)


def test_port_zero_disables():
    addon = Metrics()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, crossingguard_metrics_port=0)
        addon.running()
        assert addon.server is None
        addon.done()


def test_port_change_at_runtime_rebinds():
    first, second = free_port(), free_port()
    addon = Metrics()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, crossingguard_metrics_port=first)
        addon.running()
        try:
            assert listening(first)
            tctx.configure(addon, crossingguard_metrics_port=second)
            assert not listening(first)
            assert "crossingguard_build_info" in get(second)
        finally:
            addon.done()


def test_port_in_use_keeps_the_proxy_running(caplog):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        addon = Metrics()
        with taddons.context(addon) as tctx:
            tctx.configure(addon, crossingguard_metrics_port=port)
            addon.running()               # must not raise: filtering goes on without metrics
            assert addon.server is None
            assert "cannot serve" in caplog.text
            addon.done()


def test_serve_for_processes_other_than_the_proxy():
    """agent.metrics.exporter.serve: what `crossingguard sensor --metrics-port` can call."""
    from agent.metrics.exporter import serve
    server = serve(0)
    try:
        assert server.port != 0
        m.COUNTERS.inc(m.SENSOR_BYPASSES, "doh")
        s = parse_scrape(get(server.port))
        assert s.value("crossingguard_sensor_bypasses_total", kind="doh") >= 1
    finally:
        server.stop()
    assert not listening(server.port)


def test_enabling_at_runtime_from_port_zero():
    port = free_port()
    addon = Metrics()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, crossingguard_metrics_port=0)
        addon.running()
        assert addon.server is None
        try:
            tctx.configure(addon, crossingguard_metrics_port=port)
            assert "crossingguard_build_info" in get(port)
            tctx.configure(addon, crossingguard_metrics_port=0)
            assert not listening(port)
        finally:
            addon.done()
