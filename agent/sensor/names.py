"""One place that decides what counts as a host name on the wire (SNI, DNS, Host headers).

Names are reported as they were sent (case and all), the way tshark shows them: DNS 0x20
randomisation mixes case on purpose, and IT may want to see it. Matching against the catalog
normalises (agent/policy/catalog.py), so case never changes a platform or a bypass.
"""
from __future__ import annotations


def clean_name(raw: bytes | str) -> str | None:
    """The name as text; None when it is not printable ASCII without spaces, or too long."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            return None
    else:
        text = raw
    text = text.strip()
    if not text or len(text) > 254 or not text.isprintable() or " " in text:
        return None
    return text
