"""HTTP/1.x requests: the host a request names (Host header, absolute URL, or CONNECT target)."""
from __future__ import annotations

import re

from agent.sensor.names import clean_name

METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"PATCH ", b"CONNECT ", b"TRACE ")
_PREFIXES = frozenset(m[:4] for m in METHODS)
MAX_HEAD = 16384
_REQUEST = re.compile(rb"([A-Z]{3,7}) (\S{1,8192}) HTTP/1\.[019]\r?\n")
_HOST = re.compile(rb"\r?\nhost:[ \t]*([^\r\n]*)", re.IGNORECASE)
NEED_MORE, FAILED = "more", "failed"


def looks_like_http(payload: bytes) -> bool:
    return payload[:4] in _PREFIXES and payload.startswith(METHODS)


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def request_host(buf: bytes):
    """(method, host) once the request head is complete; NEED_MORE or FAILED otherwise."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        head_end = buf.find(b"\n\n")
    if head_end < 0:
        return NEED_MORE if len(buf) < MAX_HEAD else FAILED
    m = _REQUEST.match(buf, 0, head_end + 2)
    if m is None:
        return FAILED
    method, target = m.group(1).decode(), m.group(2)
    host = None
    if method == "CONNECT":
        host = target.decode("ascii", "replace")
    elif b"://" in target[:16]:
        host = target.split(b"://", 1)[1].split(b"/", 1)[0].split(b"@")[-1].decode("ascii", "replace")
    if host is None:
        h = _HOST.search(buf, 0, head_end + 2)
        if h is not None:
            host = h.group(1).strip().decode("ascii", "replace")
    if not host:
        return method, None
    return method, clean_name(_strip_port(host))
