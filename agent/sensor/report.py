"""What the sensor's events become beyond the JSON lines: metrics, and incidents for bypasses.

Each event is counted in crossingguard_sensor_events_total{kind}; each bypass in
crossingguard_sensor_bypasses_total{kind=<reason>} (the IT dashboard's panels). A bypass also
becomes an incident of kind `bypass` (shown to the `it` role; no post text: `text` is empty and
the evidence holds only what was on the wire: reason, protocol, name, addresses). One incident
per device, reason and platform per `window` seconds of packet time, so a device retrying its
VPN every few seconds is one incident, not thousands.

Who: the identity resolver (device registry by address or MAC, then the DHCP map), as the
proxy would identify the same device; an unregistered device is `unknown`.

Fail choice: when the store cannot be written the store spools to disk (agent/store); if even
that raises, the incident is counted as an error and the sensor carries on (fail open: the
sensor is an observer, and the event line on stdout still records the bypass).
"""
from __future__ import annotations

import logging
from agent.metrics import ADDON_ERRORS, COUNTERS, SENSOR_BYPASSES, SENSOR_EVENTS
from agent.sensor.engine import Event, iso_time

log = logging.getLogger("crossingguard.sensor")

# Which guideline a bypass concerns (our short summaries live in the policy's `guidelines`).
GUIDELINE = {"bittorrent": "student.10", "bittorrent_dht": "student.10", "mac_change": "student.5"}
DEFAULT_GUIDELINE = "student.1"
SEVERITY = {"mac_change": "high", "vpn_wireguard": "medium", "vpn_openvpn": "medium", "vpn_ipsec": "medium",
            "tor": "medium", "doh": "medium", "dot": "medium"}
DEFAULT_SEVERITY = "low"


class Reporter:
    def __init__(self, store=None, resolver=None, roster=None, window: float = 3600.0):
        self.store, self.resolver, self.roster, self.window = store, resolver, roster, window
        self._last: dict[tuple, float] = {}
        self.incidents = 0
        self.errors = 0

    def __call__(self, ev: Event) -> None:
        COUNTERS.inc(SENSOR_EVENTS, ev.kind)
        reasons = [r for r in (ev.bypass, ev.extra.get("also")) if r]
        for reason in reasons:
            COUNTERS.inc(SENSOR_BYPASSES, reason)
            if self.store is not None:
                self._incident(ev, reason)

    def who(self, ev: Event) -> tuple[str, str | None, str | None]:
        """(user_id, device, school) for the event's device."""
        if self.resolver is None or not ev.src:
            return "unknown", ev.src_mac or ev.src, None
        ident = self.resolver.resolve(auth_user=None, client_ip=ev.src, client_mac=ev.src_mac)
        school = None
        if ident.user_id != "unknown" and self.roster is not None:
            person = self.roster.get(ident.user_id)
            if person is not None and person.schools:
                school = person.schools[0]
        return ident.user_id, ident.device, school

    def _incident(self, ev: Event, reason: str) -> None:
        device_key = ev.src_mac or ev.src
        key = (device_key, reason, ev.platform)
        last = self._last.get(key)
        if last is not None and ev.ts - last < self.window:
            return
        self._last[key] = ev.ts
        if len(self._last) > 100_000:
            self._last.pop(next(iter(self._last)))
        from agent.store.incident import Incident
        try:
            user, device, school = self.who(ev)
            evidence = {"reason": reason, "protocol": ev.kind, "name": ev.name, "src": ev.src,
                        "src_mac": ev.src_mac, "dst": ev.dst, "device": device,
                        "seen": iso_time(ev.ts)}
            if "expected_mac" in ev.extra:
                evidence["expected_mac"] = ev.extra["expected_mac"]
            self.store.add_incident(Incident.new(
                user=user, platform=ev.platform, kind="bypass", text="", labels=(reason,),
                evidence=(evidence,), severity=SEVERITY.get(reason, DEFAULT_SEVERITY),
                guidelines=(GUIDELINE.get(reason, DEFAULT_GUIDELINE),), school=school,
                device=device or device_key))
            self.incidents += 1
        except Exception:
            self.errors += 1
            COUNTERS.inc(ADDON_ERRORS, "sensor")
            if self.errors == 1:
                log.exception("crossingguard sensor: could not record a bypass incident")
