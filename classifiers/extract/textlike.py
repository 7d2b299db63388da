"""Does a string look like something a person wrote, or like machinery (ids, tokens, enums, URLs)?

Used by the generic fallback, which sees every string in a body. The rule leans towards
keeping text under keys that name user content (text, message, caption...) and towards
dropping single bare words elsewhere, because request bodies are full of enums and ids.
"""
from __future__ import annotations

import re

# Keys whose values are never read: credentials and request signing (PLATFORMS.md: passwords and
# tokens are never extracted, logged or stored). Matched as substrings of the lower-cased key.
SECRET_KEY_PARTS = ("pass", "pwd", "token", "secret", "csrf", "xsrf", "signature", "signed_body", "sig_key",
                    "dtsg", "jazoest", "lsd", "authenticity", "auth", "cookie", "otp", "captcha", "nonce",
                    "api_key", "apikey", "session", "credential", "private_key", "x-bogus", "msToken".lower())

# Keys that name user-written content.
TEXT_KEYS = ("text", "message", "content", "caption", "comment", "status", "body", "description", "bio",
             "title", "note", "subject", "name", "reply", "post", "tweet", "biography", "about", "reason",
             "spoiler", "value", "summary", "headline", "msg")

_LITERALS = frozenset({"true", "false", "null", "none", "undefined", "nan"})   # serialised booleans (praw sends "False")
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.|data:|mailto:)", re.I)
_HEXISH = re.compile(r"^[0-9a-fA-F-]{8,}$")
_NUMBERISH = re.compile(r"^[\d\s.,:+\-_/T]+Z?$")
_TOKENISH = re.compile(r"^[A-Za-z0-9+/=_\-.:~]{20,}$")
_ENUMISH = re.compile(r"^(?:[a-z0-9]+(?:[_.\-][a-z0-9]+)+|[A-Z0-9]+(?:_[A-Z0-9]+)*|[a-z]+(?:[A-Z][a-z0-9]*)+)$")
_EMAILISH = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_CODEISH = re.compile(r"[{};]\s*$|^\s*(?:query|mutation|fragment)\b|=>|\bfunction\b")


def is_secret_key(key: str) -> bool:
    k = key.lower()
    return any(p in k for p in SECRET_KEY_PARTS)


_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_NOT_TEXT_LAST = {"id", "ids", "type", "url", "uri", "at", "count", "key", "lang", "language", "langs", "params",
                  "hash", "mode", "scope", "state", "source", "visibility", "origin", "kind", "format", "style",
                  "surface", "class", "module", "version", "uuid", "code", "preset", "setting", "settings",
                  "enabled", "level", "position", "index", "ts", "time", "timestamp", "date", "provider", "providers",
                  "method", "status_code", "range", "ranges", "entry", "point", "location"}


def key_words(key: str) -> list[str]:
    """`allowedCommentersScope` -> [allowed, commenters, scope]; `comment_text` -> [comment, text]."""
    return [w.lower() for w in _WORD.findall(key)]


def is_text_key(key: str) -> bool:
    words = key_words(key)
    if not words or words[-1] in _NOT_TEXT_LAST:
        return False
    return any(w.startswith(t) for w in words for t in TEXT_KEYS)


def looks_human(value: str, key: str = "") -> bool:
    s = value.strip()
    if len(s) < 2 or len(s) > 100_000:
        return False
    if s.lower() in _LITERALS:
        return False
    if _URL.match(s) or _HEXISH.match(s) or _NUMBERISH.match(s) or _EMAILISH.match(s):
        return False
    if " " not in s and _TOKENISH.match(s):
        return False
    if _CODEISH.search(s):
        return False
    if s[0] in "{[" and s[-1] in "}]":          # JSON in a string: the walker parses it separately
        return False
    has_letter = any(c.isalpha() for c in s)
    has_emoji = any(ord(c) >= 0x2190 and not c.isalpha() for c in s)
    if not (has_letter or has_emoji):
        return False
    if key and is_text_key(key):
        # a bare ascii enum (PUBLISHED, feed_timeline, inlineComposer) even under a text key
        return not (" " not in s and s.isascii() and _ENUMISH.match(s) and (len(s) > 2 or not s.islower()))
    # elsewhere: a bare word is almost always an enum or a code, keep phrases
    if " " not in s:
        return not s.isascii() and has_letter and len(s) >= 2 and not _ENUMISH.match(s)
    words = [w for w in s.split() if any(c.isalpha() for c in w)]
    return len(words) >= 2
