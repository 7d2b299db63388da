"""/healthz on the metrics port: what the Kubernetes probes and the compose healthcheck ask
(deploy/). 200 when the check passes, 503 with the reason when not, /metrics unchanged."""
from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from agent.metrics.exporter import MetricsServer, build_registry
from tests.support import read_head

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with OPENER.open(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.fixture
def server():
    state = {"problem": None}
    s = MetricsServer(build_registry(), "127.0.0.1", 0, health=lambda: state["problem"]).start()
    try:
        yield s, state
    finally:
        s.stop()


def test_healthy_unhealthy_and_metrics(server):
    s, state = server
    assert get(s.port, "/healthz") == (200, "ok\n")
    state["problem"] = "proxy port 127.0.0.1:1 does not accept connections"
    code, body = get(s.port, "/healthz")
    assert code == 503 and "does not accept" in body
    code, body = get(s.port, "/metrics")
    assert code == 200 and "crossingguard_build_info" in body


def test_a_raising_check_is_unhealthy(tmp_path):
    def boom():
        raise RuntimeError("store exploded")
    s = MetricsServer(build_registry(), "127.0.0.1", 0, health=boom).start()
    try:
        code, body = get(s.port, "/healthz")
        assert code == 503 and "store exploded" in body
    finally:
        s.stop()


def test_proxy_health_connects_to_the_listen_port(monkeypatch):
    from types import SimpleNamespace

    from proxy_addons import metrics as addon
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        monkeypatch.setattr(addon.mitm_ctx, "options", SimpleNamespace(listen_host="127.0.0.1", listen_port=port),
                            raising=False)
        assert addon.proxy_health() is None
    assert "does not accept connections" in addon.proxy_health()


@pytest.mark.parametrize("path", ["/metrics", "/healthz"])
def test_server_header_names_no_versions(server, path):
    """Whoever reaches the port learns it is CrossingGuard, not the exact Python and wsgiref versions."""
    s, _ = server
    with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        head = read_head(c)
    servers = [line for line in head.decode("latin-1").split("\r\n") if line.lower().startswith("server:")]
    assert servers == ["Server: crossingguard"]
