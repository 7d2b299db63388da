"""proxy_addons/filewatch.py: inotify without polling (the session cache's wake-up)."""
from __future__ import annotations

import struct
import threading
import time

import pytest

from proxy_addons import filewatch
from proxy_addons.filewatch import FileWatch, changed_names


def event(name: bytes, mask: int = filewatch.IN_MODIFY) -> bytes:
    padded = name.ljust((len(name) // 16 + 1) * 16, b"\0") if name else b""   # the kernel NUL-pads names
    return struct.pack("iIII", 1, mask, 0, len(padded)) + padded


@pytest.mark.parametrize("buf, names, overflow", [
    (b"", set(), False),
    (event(b"crossingguard.db-wal"), {"crossingguard.db-wal"}, False),
    (event(b"a") + event(b"crossingguard.db"), {"a", "crossingguard.db"}, False),
    (event(b"", filewatch.IN_Q_OVERFLOW), set(), True),
    (event(b"x")[:10], set(), False),                  # a truncated header is ignored, not misread
])
def test_changed_names(buf, names, overflow):
    assert changed_names(buf) == (names, overflow)


@pytest.fixture
def watch(tmp_path):
    w = FileWatch.open(tmp_path, {"db", "db-wal"})
    if w is None:
        pytest.skip("no inotify on this system")
    yield w
    w.close()


def test_a_write_to_a_watched_name_wakes_and_others_do_not(watch, tmp_path):
    (tmp_path / "other").write_text("x")
    assert watch.wait(0.2) is False
    (tmp_path / "db-wal").write_bytes(b"frame")
    t0 = time.monotonic()
    assert watch.wait(5) is True
    assert time.monotonic() - t0 < 1
    assert watch.wait(0.1) is False                     # drained: no second report of the same write


def test_poke_ends_a_wait_at_once(watch):
    threading.Timer(0.1, watch.poke).start()
    t0 = time.monotonic()
    assert watch.wait(30) is False
    assert time.monotonic() - t0 < 5


def test_poke_after_close_is_harmless(watch):
    watch.close()
    watch.poke()
    watch.close()
