"""Fail mode, pass-through decisions, Core configuration errors, block page negotiation, certificates."""
from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import stat

import pytest
from mitmproxy import certs, exceptions
from mitmproxy.proxy import context as proxy_context
from mitmproxy.proxy.layers.tls import parse_client_hello
from mitmproxy.test import taddons, tflow
from mitmproxy.tls import ClientHelloData

from agent.context import AppContext
from agent.metrics import ADDON_ERRORS, COUNTERS, TUNNELS
from proxy_addons import certs as cg_certs
from proxy_addons.blockpage import wants_json
from proxy_addons.state import Core, load_state
from tests.addons.conftest import TEACHER_IP, TEEN_IP, UNKNOWN_IP, YOUNG_IP, make_flow, options_for
from proxy_addons.verdict import KEY


class ExplodingEngine:
    """Wraps the real engine; decide() raises (a bug in the filter)."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    def decide(self, *a, **kw):
        raise RuntimeError("simulated engine failure")


@pytest.fixture
def exploding(stack):
    real = stack.state.engine
    object.__setattr__(stack.state, "engine", ExplodingEngine(real))
    yield stack
    object.__setattr__(stack.state, "engine", real)


def test_student_gets_the_fail_page_and_the_error_is_counted(exploding):
    before = COUNTERS.values[(ADDON_ERRORS, ("enforce",))]
    f = exploding.send(make_flow(TEEN_IP, "www.youtube.com", headers={"Accept": "text/html"}))
    assert f.response is not None and f.response.status_code == 503
    assert "filter had a problem" in f.response.get_text()
    assert f.metadata[KEY].request_id in f.response.get_text()
    assert f.metadata[KEY].failed == "enforce" and f.metadata[KEY].fail_action == "block"
    assert COUNTERS.values[(ADDON_ERRORS, ("enforce",))] == before + 1


@pytest.mark.parametrize("ip", [UNKNOWN_IP, YOUNG_IP])
def test_unknown_and_young_fail_closed(exploding, ip):
    f = exploding.send(make_flow(ip, "www.youtubekids.com", headers={"Accept": "application/json"}))
    assert f.response.status_code == 503
    assert json.loads(f.response.content)["reason"] == "filter_error"


def test_staff_fail_open(exploding):
    f = exploding.send(make_flow(TEACHER_IP, "www.youtube.com"))
    assert f.response is None
    assert f.metadata[KEY].fail_action == "allow"


def test_the_proxy_continues_after_a_failure(exploding, stack):
    exploding.send(make_flow(TEEN_IP, "www.youtube.com"))
    object.__setattr__(stack.state, "engine", exploding.state.engine.real)
    f = stack.send(make_flow(TEEN_IP, "www.youtube.com"))
    assert f.response is None and f.metadata[KEY].decision.verdict == "allow"


def test_failed_requests_are_in_the_activity_log(exploding):
    exploding.send(make_flow(TEEN_IP, "www.youtube.com", path="/watch?v=1"))
    exploding.activity.done()
    lines = [json.loads(x) for f in (exploding.state.home / "activity").glob("*.jsonl")
             for x in f.read_text().splitlines()]
    assert [(r["host"], r["path"], r["verdict"], r["rule"]) for r in lines] == [
        ("www.youtube.com", "/watch", "block", "filter_error")]


def test_identity_failure_fails_closed_as_unknown(stack):
    class Broken:
        def resolve(self, **kw):
            raise KeyError("simulated")
    object.__setattr__(stack.state, "resolver", Broken())
    f = stack.send(make_flow(TEACHER_IP, "www.youtube.com"))
    assert f.response.status_code == 503      # role unknown -> block
    assert COUNTERS.values[(ADDON_ERRORS, ("identity",))] >= 1


# ---------------------------------------------------------------- pass-through
def client_hello_data(sni: str, peer_ip: str) -> ClientHelloData:
    """A real ClientHello (made by Python's ssl) wrapped as mitmproxy's hook data."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = parse_client_hello(outgoing.read())
    client = tflow.tclient_conn()
    client.peername = (peer_ip, 40000)
    from mitmproxy import ctx as mctx   # the options of the active taddons context
    context = proxy_context.Context(client, mctx.options)
    context.server.address = (sni, 443)
    return ClientHelloData(context, hello)


@pytest.mark.parametrize("ip,sni,intercepted,reason", [
    (TEEN_IP, "www.instagram.com", True, "intercepted"),
    (TEEN_IP, "scontent.cdninstagram.com", True, "intercepted"),
    (TEEN_IP, "www.example.org", False, "passthrough"),
    (TEEN_IP, "notinstagram.com", False, "passthrough"),
    (TEEN_IP, "www.google.com", True, "intercepted"),     # SafeSearch for students
    (TEACHER_IP, "www.example.org", False, "passthrough"),
    (TEEN_IP, "api.push.apple.com", False, "ignored"),     # cert-pinned: untouched
])
def test_tls_clienthello_intercepts_only_what_the_policy_must_see(stack, ip, sni, intercepted, reason):
    before = COUNTERS.values[(TUNNELS, (reason,))]
    data = client_hello_data(sni, ip)
    stack.passthrough.tls_clienthello(data)
    assert data.ignore_connection is (not intercepted)
    assert COUNTERS.values[(TUNNELS, (reason,))] == before + 1


def test_pinned_platform_blocked_for_the_subject_is_refused_not_intercepted(tmp_path, district):
    """A catalog platform on ignore_hosts: the CONNECT of a student it blocks gets a 403."""
    base, roster, devices = district
    shipped = AppContext().policy_path.read_text(encoding="utf-8")
    assert "ignore_hosts:\n" in shipped
    policy = tmp_path / "policy.yaml"
    policy.write_text(shipped.replace("ignore_hosts:\n", "ignore_hosts:\n  - www.instagram.com\n", 1),
                      encoding="utf-8")
    state = load_state(AppContext(tmp_path / "home", policy, roster.directory, devices))
    from proxy_addons.identity import IdentityAddon
    from proxy_addons.passthrough import Passthrough
    core = Core(state)
    identity = IdentityAddon(core)
    pt = Passthrough(core, identity)
    with taddons.context(core, identity, pt) as tctx:
        tctx.configure(core, **options_for(tmp_path / "home", roster, devices, policy))
        f = make_flow(YOUNG_IP, "www.instagram.com", method="CONNECT")
        identity.http_connect(f)
        pt.http_connect(f)
        assert f.response is not None and f.response.status_code == 403
        ok = make_flow(TEACHER_IP, "www.instagram.com", method="CONNECT")
        identity.http_connect(ok)
        pt.http_connect(ok)
        assert ok.response is None
        data = client_hello_data("www.instagram.com", TEACHER_IP)
        pt.tls_clienthello(data)
        assert data.ignore_connection is True            # allowed: the pinned host is untouched
        data = client_hello_data("www.instagram.com", YOUNG_IP)
        pt.tls_clienthello(data)
        assert data.ignore_connection is False           # transparent mode, blocked: never tunnelled


# ---------------------------------------------------------------- core options
def test_core_reports_a_bad_policy_with_file_and_line(tmp_path, district):
    _, roster, devices = district
    bad = tmp_path / "bad.yaml"
    bad.write_text("district:\n  name: X\nrules: 7\nbogus: true\n", encoding="utf-8")
    core = Core()
    with taddons.context(core) as tctx:
        tctx.configure(core, **options_for(tmp_path / "home", roster, devices))
        good = core.state
        with pytest.raises(exceptions.OptionsError) as err:
            tctx.configure(core, **options_for(tmp_path / "home", roster, devices, bad))
    assert re.search(re.escape(str(bad)) + r":\d+: \w+: ", str(err.value)), str(err.value)
    assert core.state is good    # the previous configuration stays in force, nothing half-loaded


def test_core_loads_once_and_keeps_state_on_unrelated_options(tmp_path, district):
    _, roster, devices = district
    core = Core()
    with taddons.context(core) as tctx:
        tctx.configure(core, **options_for(tmp_path / "home", roster, devices))
        first = core.state
        assert first is not None and core.generation == 1
        tctx.configure(core, ssl_insecure=True)
        assert core.state is first and core.generation == 1


# ---------------------------------------------------------------- block page negotiation
@pytest.mark.parametrize("accept,expected", [
    ("", False),
    ("*/*", False),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
    ("application/json", True),
    ("application/json, text/plain, */*", True),
    ("application/vnd.api+json", True),
    ("text/html;q=0.9, application/json", True),
    ("text/html, application/json;q=0.5", False),
    ("application/json;q=0", False),
    ("application/json;q=bogus", False),
])
def test_wants_json(accept, expected):
    assert wants_json(accept) is expected


# ---------------------------------------------------------------- certificates
def _leaf_validity(tmp_path) -> tuple[float, float]:
    """(days from now to notAfter, days notBefore..notAfter) of a freshly generated leaf."""
    from cryptography import x509
    cg_certs.ensure_ca(tmp_path / "ca", "Test District", "TD CrossingGuard CA")
    store = certs.CertStore.from_store(tmp_path / "ca", "mitmproxy", 2048)
    leaf = store.get_cert("www.instagram.com", [x509.DNSName("www.instagram.com")]).cert
    now = dt.datetime.now(dt.timezone.utc)
    return (leaf.notafter - now).total_seconds() / 86400, (leaf.notafter - leaf.notbefore).total_seconds() / 86400


def test_leaf_lifetime_is_capped_at_197_days_from_now(tmp_path, monkeypatch):
    monkeypatch.setattr(certs, "CERT_EXPIRY", dt.timedelta(days=365))   # 11.0.2's value
    assert cg_certs.shorten_leaf_lifetime() == dt.timedelta(days=197)
    ahead, total = _leaf_validity(tmp_path)
    assert 196.9 < ahead <= 197.01 and total < 200


def test_leaf_lifetime_is_never_lengthened(tmp_path, monkeypatch):
    offset = getattr(certs, "CERT_VALIDITY_OFFSET", dt.timedelta(0))
    monkeypatch.setattr(certs, "CERT_EXPIRY", dt.timedelta(days=90))
    assert cg_certs.shorten_leaf_lifetime() == dt.timedelta(days=90) + offset
    ahead, _ = _leaf_validity(tmp_path)
    assert ahead <= 90.01


def test_ca_is_named_after_the_district_and_private(tmp_path):
    cert_path = cg_certs.ensure_ca(tmp_path / "ca", "Test District", "TD CrossingGuard CA")
    cert = cg_certs.ca_certificate(tmp_path / "ca")
    assert "Test District" in cert.subject.rfc4514_string()
    assert stat.S_IMODE((tmp_path / "ca").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "ca" / "mitmproxy-ca.pem").stat().st_mode) == 0o600
    assert b"PRIVATE" not in cert_path.read_bytes()
    again = cg_certs.ensure_ca(tmp_path / "ca", "Other", "Other")
    assert cg_certs.ca_certificate(tmp_path / "ca") == cert and again == cert_path
