"""Pages the proxy serves itself: HTML for browsers, JSON when the client asks for JSON.

What each page says is decided in agent/pages.py (pure, one case per reader); this module only
renders a `PageText` into a mitmproxy Response. One template (agent/templates/page.html) and one
inlined style sheet; every value is HTML-escaped here. No response of ours names the software
or its version (no Server or Via header).
"""
from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from string import Template

from mitmproxy import http

import agent
from agent import pages

TEMPLATES = Path(agent.__file__).resolve().parent / "templates"
BLOCK_STATUS = 403
FAIL_STATUS = 503
UPSTREAM_STATUS = 502


@lru_cache(maxsize=None)
def _template(name: str = "page.html") -> Template:
    # The pages share one style sheet, inlined once here: a blocked page must render with no
    # second request (the stylesheet's own URL could be blocked or unreachable).
    css = (TEMPLATES / "page.css").read_text(encoding="utf-8")
    page = Template((TEMPLATES / name).read_text(encoding="utf-8")).safe_substitute(style=css)
    return Template(page)


def wants_json(accept: str) -> bool:
    """True when the Accept header asks for JSON rather than a page (API and fetch() clients)."""
    if not accept:
        return False
    best_json = best_html = -1.0
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if media == "application/json" or media.endswith("+json"):
            best_json = max(best_json, q)
        elif media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, q)
    return best_json > 0 and best_json >= best_html


# The student report link (DESIGN.md "Student reports"): the proxy answers crossingguard.internal
# itself. Every block page and held-post page carries it (PageText.report_link).
REPORT_HTML = (
    '<!-- STUDENT REPORT LINK: ' + pages.REPORT_URL + ' (DESIGN.md "Student reports") -->\n'
    '<p class="report">Is something online worrying you, or is someone being bullied or threatened? '
    '<a href="' + pages.REPORT_URL + '">Tell the school about it</a>.</p>')


def render_html(text: pages.PageText, district: str) -> str:
    """The page for `text` (every value escaped)."""
    e = html.escape
    details = "\n".join(f"<p>{e(d)}</p>" for d in text.details)
    steps = ""
    if text.next_steps:
        steps = "<h2>What you can do</h2>\n<ul>\n" + \
                "\n".join(f" <li>{e(s)}</li>" for s in text.next_steps) + "\n</ul>"
    small = "\n".join(f" <dt>{e(k)}</dt><dd>{_small_value(k, v)}</dd>" for k, v in text.small_print)
    return _template().substitute(
        title=e(text.title), case=e(text.case), district=e(district), heading=e(text.heading),
        lead=e(text.lead), details=details, next_steps=steps,
        report=REPORT_HTML if text.report_link else "", small_print=small)


def _small_value(label: str, value: str) -> str:
    return f"<code>{html.escape(value)}</code>" if label == "Request id" else html.escape(value)


def _headers(content_type: str, request_id: str, close: bool = False) -> dict[str, str]:
    headers = {"Content-Type": content_type, "Cache-Control": "no-store",
               "X-CrossingGuard-Request-Id": request_id}
    if close:
        headers["Connection"] = "close"
    return headers


def _iso(at: datetime, tz) -> str:
    return at.astimezone(tz).isoformat(timespec="seconds")


def _respond(text: pages.PageText, district: str, body_json: dict, request_id: str, accept: str,
             close: bool = False) -> http.Response:
    if wants_json(accept):
        return http.Response.make(text.status, json.dumps(body_json, ensure_ascii=False).encode(),
                                  _headers("application/json; charset=utf-8", request_id, close))
    return http.Response.make(text.status, render_html(text, district).encode(),
                              _headers("text/html; charset=utf-8", request_id, close))


def block_response(policy, decision, request_id: str, accept: str, held: tuple[str, ...] = (),
                   at: datetime | None = None) -> http.Response:
    """The 403 for a policy block, or for a held post (`held`: the categories that held it)."""
    at = at or datetime.now(timezone.utc)
    text = pages.block_page(policy, decision, request_id, at, tuple(held), status=BLOCK_STATUS)
    body = {"blocked": True, "district": policy.district_name, "platform": decision.platform,
            "platform_name": pages.platform_name(policy, decision.platform), "verdict": decision.verdict,
            "action": decision.action, "rule": decision.rule, "guideline": decision.guideline,
            "reason": decision.reason, "request_id": request_id, "time": _iso(at, policy.timezone),
            "case": text.case, "report_url": pages.REPORT_URL, **text.extra}
    return _respond(text, policy.district_name, body, request_id, accept)


def fail_response(policy, host: str, request_id: str, accept: str) -> http.Response:
    """The page for the fail-closed mode: the filter itself had a problem (not a policy block)."""
    at = datetime.now(timezone.utc)
    text = pages.fail_page(policy, host, request_id, at, status=FAIL_STATUS)
    district = policy.district_name if policy else "School district"
    tz = policy.timezone if policy else timezone.utc
    body = {"blocked": True, "district": district, "reason": "filter_error",
            "message": "The district web filter could not check this request.",
            "request_id": request_id, "time": _iso(at, tz), "case": text.case}
    return _respond(text, district, body, request_id, accept)


def upstream_response(policy, host: str, message: str, request_id: str, accept: str,
                      close: bool = False) -> http.Response:
    """The page for an allowed site that could not be reached (refused, timed out, no such name)."""
    at = datetime.now(timezone.utc)
    text = pages.upstream_page(policy, host, message, request_id, at, status=UPSTREAM_STATUS)
    district = policy.district_name if policy else "School district"
    tz = policy.timezone if policy else timezone.utc
    body = {"blocked": False, "district": district, "reason": "upstream_unreachable",
            "problem": text.extra["problem"], "message": text.lead, "host": host,
            "request_id": request_id, "time": _iso(at, tz), "case": text.case}
    return _respond(text, district, body, request_id, accept, close)
