from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pcap_dir() -> Path | None:
    """The real sample captures (`../shared/data/pcaps/` next to the checkout, or $CROSSINGGUARD_PCAPS).
    They are open test data kept outside the repository."""
    env = os.environ.get("CROSSINGGUARD_PCAPS")
    candidates = [Path(env)] if env else [ROOT.parent / "shared" / "data" / "pcaps",
                                          ROOT.parent.parent / "shared" / "data" / "pcaps"]
    for c in candidates:
        if (c / "expected.json").is_file():
            return c
    return None


@pytest.fixture(scope="session")
def pcaps() -> Path:
    d = pcap_dir()
    if d is None:
        pytest.skip("real sample captures not found: set CROSSINGGUARD_PCAPS to shared/data/pcaps")
    return d


@pytest.fixture()
def catalog():
    from agent.policy.catalog import default_catalog
    return default_catalog()


def run_sensor(path, catalog=None, **kw):
    """Events (as dicts) of the sensor over a capture file, in-process."""
    from agent.policy.catalog import default_catalog
    from agent.sensor import Sensor
    from agent.sensor.capture import read_capture
    events = []
    sensor = Sensor(catalog or default_catalog(), events.append, **kw)
    for ts, linktype, frame in read_capture(path):
        sensor.feed(ts, linktype, frame)
    assert sensor.errors == 0, "a parser raised on a packet"
    return [e.to_json() for e in events], sensor
