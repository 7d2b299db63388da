"""Students report bullying (student guideline 9): the pure part of the report page that the
proxy itself serves at http(s)://crossingguard.internal/report (proxy_addons/report.py).

  - the form's CSRF token: an HMAC over who asks and when, under a key kept in home/report.key,
    so any proxy process sharing --home accepts a token another one issued;
  - the per-student rate limit (a sliding window);
  - checking the form and turning it into an Incident of kind `report`, severity `high` (the
    routing of a bullying incident: counselors of the student's school read it).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

REPORT_HOST = "crossingguard.internal"
REPORT_PATH = "/report"
KIND = "report"
SEVERITY = "high"            # routed like a bullying incident (student guideline 9)
LABELS = ("bullying",)
GUIDELINES = ("student.9",)
MAX_WHAT = 5000
MAX_LINK = 2000
TOKEN_MAX_AGE = 4 * 3600     # a form left open for a school morning still submits
OTHER_PLATFORM = "other"


# ---------------------------------------------------------------- CSRF tokens

def load_or_create_key(path: Path) -> bytes:
    """The token key, created once (0600) and shared by every process using this home."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
        raise ValueError(f"{path}: report key is damaged (expected 32 bytes); delete it to make a new one")
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def issue_token(key: bytes, who: str, now: float | None = None) -> str:
    """A token for the form served to `who` (the user id, or the device address if unknown)."""
    ts = int(time.time() if now is None else now)
    mac = hmac.new(key, f"{who}|{ts}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{ts}.{mac}"


def check_token(key: bytes, who: str, token: str, now: float | None = None,
                max_age: int = TOKEN_MAX_AGE) -> bool:
    now = time.time() if now is None else now
    ts_text, _, mac = (token or "").partition(".")
    if not ts_text.isdigit() or not mac:
        return False
    ts = int(ts_text)
    if not (now - max_age <= ts <= now + 60):
        return False
    expect = hmac.new(key, f"{who}|{ts}".encode(), hashlib.sha256).hexdigest()[:32]
    return hmac.compare_digest(expect, mac)


# ---------------------------------------------------------------- rate limit

class RateLimiter:
    """At most `limit` reports per `window` seconds per student (in this process)."""

    def __init__(self, limit: int = 3, window: float = 600.0):
        self.limit, self.window = limit, window
        self._seen: dict[str, deque] = {}

    def wait_seconds(self, who: str, now: float | None = None) -> float:
        """0 when `who` may send a report now; otherwise how long until they may."""
        now = time.monotonic() if now is None else now
        q = self._seen.get(who)
        if q is None:
            return 0.0
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._seen[who]
            return 0.0
        return 0.0 if len(q) < self.limit else max(0.0, q[0] + self.window - now)

    def record(self, who: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._seen.setdefault(who, deque()).append(now)


# ---------------------------------------------------------------- the form

@dataclass(frozen=True)
class ReportForm:
    what: str
    platform: str | None
    link: str | None


def parse_form(fields: dict[str, str], platforms: set[str]) -> tuple[ReportForm | None, list[str]]:
    """(form, []) when valid; (None, problems in plain words) otherwise."""
    problems = []
    what = (fields.get("what") or "").strip()
    if not what:
        problems.append("Please write what happened.")
    elif len(what) > MAX_WHAT:
        problems.append(f"Please keep it under {MAX_WHAT} characters (you wrote {len(what)}).")
    platform = (fields.get("platform") or "").strip().lower() or None
    if platform is not None and platform not in platforms and platform != OTHER_PLATFORM:
        problems.append("Please pick the app or site from the list (or leave it empty).")
    link = (fields.get("link") or "").strip() or None
    if link is not None and not _web_address(link):
        problems.append("The link does not look like a web address; you can leave it empty.")
    elif link is not None and "://" not in link:
        link = "https://" + link
    if problems:
        return None, problems
    return ReportForm(what=what, platform=platform, link=link), []


def _web_address(link: str) -> bool:
    """http(s) URLs, or a bare host/path a student pasted ("instagram.com/p/x"); nothing else
    (javascript:, data:, file: ...)."""
    if len(link) > MAX_LINK or any(c.isspace() for c in link):
        return False
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):", link, re.I)
    if scheme and scheme.group(1).lower() not in ("http", "https") and "://" in link:
        return False
    if scheme and "://" not in link and not re.match(r"^[^:/]+:\d+(/|$)", link):
        return False          # "javascript:...", "mailto:..."; a "host:port/..." is fine
    u = urlparse(link if "://" in link else "https://" + link)
    try:
        u.port
    except ValueError:
        return False
    return u.scheme in ("http", "https") and bool(u.hostname) and "." in u.hostname


def report_incident(form: ReportForm, user: str, school: str | None, created: datetime | None = None, *,
                    device: str | None = None, identified_by: str | None = None):
    """The Incident a report becomes: the student's own words (plus the link) as its text."""
    from agent.store import Incident
    text = form.what if not form.link else f"{form.what}\n\nLink: {form.link}"
    return Incident.new(user=user, platform=None if form.platform == OTHER_PLATFORM else form.platform,
                        kind=KIND, text=text, created=created, labels=LABELS, scores={}, severity=SEVERITY,
                        guidelines=GUIDELINES, school=school, device=device, identified_by=identified_by)


def readers(school_name: str | None, known: bool) -> str:
    """Who reads a report, said plainly."""
    if known and school_name:
        return (f"The counselors of {school_name} read every report, usually the same school day. "
                "They may talk with you to help.")
    return ("The district's student services counselors read every report. We could not tell who "
            "is using this device, so if you want them to follow up with you, put your name in "
            "your report or talk to a counselor.")
