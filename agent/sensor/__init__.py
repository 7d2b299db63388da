"""The network sensor: names seen on the wire (DNS, TLS SNI, QUIC, HTTP Host, DHCP), the DHCP
device map for identity, and traffic that went around the proxy. See docs/sensor.md.

Pure core (no mitmproxy). `Sensor` (engine.py) turns frames into `Event`s; `capture.py` reads
files and interfaces; `report.py` turns bypass events into incidents and metrics.
"""
from agent.sensor.engine import BYPASS_REASONS, KINDS, Event, Limits, Sensor, judge_bypass

__all__ = ["BYPASS_REASONS", "KINDS", "Event", "Limits", "Sensor", "judge_bypass"]
