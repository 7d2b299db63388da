"""`crossingguard sensor (--pcap FILE | --interface IF) [--proxy IP[:PORT]]`

Watches a mirror (SPAN) port or reads a capture and writes one JSON line per event
(DESIGN.md): {"ts", "src", "src_mac", "dst", "kind", "name", "platform", "bypass", ...}.
DHCP leases go to HOME/sensor/dhcp-leases.json (the proxy's identity lookup reads it); bypass
events become incidents of kind `bypass` (unless --no-incidents). See docs/sensor.md.
"""
from __future__ import annotations

import json
import signal
import sys
import time

from agent.errors import UsageError


def register(sub, common):
    p = sub.add_parser("sensor", parents=[common],
                       help="network sensor: names on the wire, DHCP device map, traffic bypassing the proxy")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--pcap", metavar="FILE", help="read a capture file (pcap or pcapng, optionally gzip-compressed)")
    src.add_argument("--interface", metavar="IF", help="capture live on an interface (a SPAN/mirror port; needs root)")
    p.add_argument("--proxy", metavar="IP[:PORT]", default=None,
                   help="the proxy's address: a catalog platform reached over TCP anywhere else is a bypass "
                        "(\"direct\"); IPv6 as [ADDR]:PORT")
    p.add_argument("--bpf", metavar="FILTER", default=None,
                   help="kernel capture filter for --interface (default: the sensor's own, see docs/sensor.md)")
    p.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                   help="serve /metrics (sensor events and bypasses) on 127.0.0.1:PORT")
    p.add_argument("--no-incidents", action="store_true",
                   help="do not record bypasses as incidents (events and metrics only)")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                   help="with --interface: stop after this many seconds (default: until interrupted)")
    p.add_argument("--enforce-rst", action="store_true",
                   help="ACTIVE: answer a TLS ClientHello whose name the policy blocks for the device's user "
                        "with TCP resets to both ends (--interface only; off by default; see docs/sensor.md)")
    p.set_defaults(func=run)


def parse_proxy(text: str | None):
    """(raw address bytes, port or None) from IP, IP:PORT, [IPv6] or [IPv6]:PORT."""
    if not text:
        return None
    from agent.sensor.wire import ip_raw
    t = text.strip()
    port = None
    if t.startswith("["):
        host, bracket, rest = t[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            host = ""   # unbalanced or trailing junk: reported below
        elif rest:
            port = rest[1:]
    elif t.count(":") == 1:
        host, port = t.split(":")
    else:
        host = t
    try:
        raw = ip_raw(host)
        port_n = int(port) if port not in (None, "") else None
        if port_n is not None and not 0 < port_n < 65536:
            raise ValueError
    except ValueError:
        raise UsageError(f"--proxy: expected IP or IP:PORT (IPv6 as [ADDR]:PORT), like 10.0.0.5:8080; got {text!r}") from None
    return raw, port_n


def run(args) -> int:
    from agent.context import AppContext
    from agent.identity import IdentityResolver
    from agent.identity.addresses import lookup_ip
    from agent.identity.leases import CurrentLeases, LeaseMap, leases_path
    from agent.sensor import Sensor
    from agent.sensor.report import Reporter

    proxy = parse_proxy(args.proxy)
    if args.enforce_rst and not args.interface:
        raise UsageError("--enforce-rst needs --interface (resets are sent on the wire, never from a file)")
    if args.interface:
        from agent.sensor.capture import check_live_capture_allowed
        check_live_capture_allowed()   # before anything else: the one thing a non-root user must hear
    ctx = AppContext.from_args(args)
    catalog = ctx.policy.catalog
    try:
        ctx.ensure_home()
    except OSError as exc:
        raise UsageError(f"--home: cannot create {ctx.home}: {exc.strerror or exc}") from None
    leases = LeaseMap(leases_path(ctx.home))
    store = None if args.no_incidents else ctx.store
    out = sys.stdout
    live = args.interface is not None

    sensor: Sensor | None = None
    clock = lambda: sensor._now if sensor is not None else time.time()   # noqa: E731 - packet time
    devices = ctx.devices
    resolver = IdentityResolver(ctx.roster, devices, CurrentLeases(leases, clock))

    def expected_macs(ip: str):
        lease = leases.leases.get(lookup_ip(ip) or ip)
        if lease is not None and lease.expires > clock():
            return frozenset({lease.mac})
        hit = devices.by_ip(ip)
        return devices.macs_of(hit[0]) if hit else None

    reporter = Reporter(store, resolver, ctx.roster)
    enforcer = None

    def emit(ev) -> None:
        reporter(ev)
        if enforcer is not None:
            enforcer.consider(ev)
        out.write(json.dumps(ev.to_json(), ensure_ascii=False) + "\n")
        if live:
            out.flush()

    sensor = Sensor(catalog, emit, proxy=proxy, leases=leases, expected_macs=expected_macs)
    server = None
    if args.metrics_port is not None:
        from agent.metrics.exporter import serve
        server = serve(args.metrics_port, "127.0.0.1", app=ctx)
    stopping = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        if live:
            from agent.sensor.capture import BPF_FILTER, live_frames
            if args.enforce_rst:
                from agent.sensor.enforce import RstInjector
                enforcer = RstInjector(args.interface, ctx.engine, who=reporter.who)
            deadline = time.monotonic() + args.duration if args.duration else None

            def stop() -> bool:
                return bool(stopping) or (deadline is not None and time.monotonic() >= deadline)
            last_save = time.monotonic()
            for ts, linktype, frame in live_frames(args.interface, args.bpf or BPF_FILTER, stop):
                if frame is not None:
                    sensor.feed(ts, linktype, frame)
                if time.monotonic() - last_save >= 1.0:
                    leases.save(time.time())
                    sensor.sweep(sensor._now)
                    last_save = time.monotonic()
        else:
            from agent.sensor.capture import read_capture
            for ts, linktype, frame in read_capture(args.pcap):
                sensor.feed(ts, linktype, frame)
                if stopping:
                    break
    finally:
        signal.signal(signal.SIGTERM, previous)
        out.flush()
        leases.save(time.time())
        if enforcer is not None:
            enforcer.close()
        if server is not None:
            server.stop()
        if store is not None:
            store.close()
    if sensor.errors:
        print(f"crossingguard sensor: {sensor.errors} packets could not be parsed (skipped)", file=sys.stderr)
    return 0
