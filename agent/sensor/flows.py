"""Bounded per-flow state: TCP streams being reassembled, QUIC handshakes, recent SYNs.

Memory stays bounded on a long capture or a hostile network: every table has a size cap (the
oldest entry is dropped first) and a time-out in packet time (entries idle longer are swept),
and each stream keeps at most `max_bytes` of data, so a peer that never finishes a ClientHello
costs a bounded amount. Dropping state only ever loses a name, never raises.
"""
from __future__ import annotations


class FlowTable:
    """A dict with a size cap (insertion order: oldest evicted first) and idle time-outs."""

    def __init__(self, cap: int, timeout: float):
        self.cap, self.timeout = cap, timeout
        self.items: dict = {}
        self.seen: dict = {}
        self.evicted = 0

    def get(self, key):
        return self.items.get(key)

    def put(self, key, value, now: float) -> None:
        if key not in self.items and len(self.items) >= self.cap:
            oldest = next(iter(self.items))
            self.pop(oldest)
            self.evicted += 1
        self.items[key] = value
        self.seen[key] = now

    def touch(self, key, now: float) -> None:
        self.seen[key] = now

    def pop(self, key):
        self.seen.pop(key, None)
        return self.items.pop(key, None)

    def sweep(self, now: float) -> int:
        limit = now - self.timeout
        stale = [k for k, t in self.seen.items() if t < limit]
        for k in stale:
            self.pop(k)
        return len(stale)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, key) -> bool:
        return key in self.items


class Stream:
    """One direction of a TCP connection, put back in order from `base` (the first data byte).

    Segments that arrive ahead of the next expected byte wait in `pending` (bounded by
    max_bytes in total); overlapping retransmissions are trimmed.
    """
    __slots__ = ("base", "data", "pending", "pending_bytes", "proto", "max_bytes", "meta", "ack")

    def __init__(self, base: int, proto: str | None, max_bytes: int):
        self.base = base
        self.data = bytearray()
        self.pending: dict[int, bytes] = {}
        self.pending_bytes = 0
        self.proto = proto
        self.max_bytes = max_bytes
        self.meta = None
        self.ack = 0            # the last acknowledgement number this direction carried

    def add(self, seq: int, payload: bytes) -> bool:
        """Add a segment; True when the contiguous data grew."""
        off = (seq - self.base) & 0xFFFFFFFF
        if off >= 0x80000000:          # before the base: a retransmission of what we already have
            off -= 0x100000000
            if off + len(payload) <= 0:
                return False
            payload, off = payload[-off:], 0
        have = len(self.data)
        if off > have:
            if off < self.max_bytes and self.pending_bytes + len(payload) <= self.max_bytes \
                    and off not in self.pending:
                self.pending[off] = bytes(payload)
                self.pending_bytes += len(payload)
            return False
        if off + len(payload) <= have:
            return False
        start = have - off                      # bytes of this segment we already hold
        self.data += payload[start:start + max(0, self.max_bytes - have)]
        while self.pending:
            have = len(self.data)
            ready = [o for o in self.pending if o <= have]
            if not ready:
                break
            for o in sorted(ready):
                seg = self.pending.pop(o)
                self.pending_bytes -= len(seg)
                have = len(self.data)
                if o + len(seg) > have:
                    self.data += seg[have - o:][:max(0, self.max_bytes - have)]
        return True

    @property
    def full(self) -> bool:
        return len(self.data) >= self.max_bytes

    def size(self) -> int:
        return len(self.data) + self.pending_bytes
