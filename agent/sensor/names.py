"""One place that decides what counts as a host name on the wire (SNI, DNS, Host headers)."""
from __future__ import annotations


def clean_name(raw: bytes | str) -> str | None:
    """Lower-case host name without a trailing dot; None when it is not printable ASCII or too long.

    Names are case-insensitive (DNS 0x20 randomisation mixes case on purpose), so one form is kept.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            return None
    else:
        text = raw
    text = text.strip().rstrip(".").lower()
    if not text or len(text) > 253 or not text.isprintable() or " " in text:
        return None
    return text
