"""The DHCP lease file: atomic writes, tolerant reads, and the watcher the proxy polls."""
from __future__ import annotations

import os

from agent.identity.leases import LeaseFileWatcher, LeaseMap, read_leases, write_leases


def test_lease_map_round_trip_release_and_expiry(tmp_path):
    path = tmp_path / "sensor" / "dhcp-leases.json"
    m = LeaseMap(path)
    m.remember_hostname("02:00:00:00:00:01", "laptop")
    m.ack("10.0.0.5", "02-00-00-00-00-01", None, 60, at=1000.0)
    m.ack("10.0.0.6", "02:00:00:00:00:02", "phone", None, at=1000.0)        # no lease time: one day
    m.save(1000.0)
    back = read_leases(path)
    assert (back["10.0.0.5"].mac, back["10.0.0.5"].hostname, back["10.0.0.5"].expires) == \
        ("02:00:00:00:00:01", "laptop", 1060.0)
    assert back["10.0.0.6"].expires == 1000.0 + 86400
    assert LeaseMap(path).current(1061.0) == {"10.0.0.6": "02:00:00:00:00:02"}
    m.release("10.0.0.6", "02:00:00:00:00:99")                                  # not its holder: ignored
    m.release("10.0.0.6", "02:00:00:00:00:02")
    assert "10.0.0.6" not in m.leases


def test_unreadable_or_malformed_files_are_an_empty_map(tmp_path):
    bad = tmp_path / "bad.json"
    for text in ("", "{", "[]", '{"leases": {"10.0.0.1": {"mac": "nonsense", "expires": 1}}}',
                 '{"leases": {"not-an-ip": {"mac": "02:00:00:00:00:01", "expires": 1}}}',
                 '{"leases": {"10.0.0.1": {"mac": "02:00:00:00:00:01"}}}'):
        bad.write_text(text)
        assert read_leases(bad) == {}
    assert read_leases(tmp_path / "missing.json") == {}


def test_watcher_parses_only_when_the_file_changes_and_drops_expired_leases(tmp_path, monkeypatch):
    from agent.identity import leases as mod
    path = tmp_path / "dhcp-leases.json"
    watcher = LeaseFileWatcher(path)
    assert watcher.poll(0.0) is False and watcher.current == {}
    write_leases(path, {"10.0.0.5": mod.Lease("02:00:00:00:00:01", None, 100.0, 0.0),
                        "10.0.0.6": mod.Lease("02:00:00:00:00:02", None, 200.0, 0.0)}, 0.0)
    parses = []
    real = mod.read_leases
    monkeypatch.setattr(mod, "read_leases", lambda p: parses.append(p) or real(p))
    assert watcher.poll(50.0) is True and watcher.current == {"10.0.0.5": "02:00:00:00:00:01",
                                                              "10.0.0.6": "02:00:00:00:00:02"}
    assert watcher.poll(60.0) is False and len(parses) == 1                   # unchanged: no parse
    assert watcher.poll(150.0) is True and watcher.current == {"10.0.0.6": "02:00:00:00:00:02"}
    assert len(parses) == 1                                                     # an expiry needs no parse
    os.unlink(path)
    assert watcher.poll(160.0) is True and watcher.current == {}
