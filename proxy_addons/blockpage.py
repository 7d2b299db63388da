"""Block and fail responses: HTML for browsers, JSON when the client asks for JSON.

Templates live in agent/templates/ (string.Template, every value HTML-escaped here).
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

TEMPLATES = Path(agent.__file__).resolve().parent / "templates"
BLOCK_STATUS = 403
FAIL_STATUS = 503


@lru_cache(maxsize=None)
def _template(name: str) -> Template:
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


def _local_time(tz) -> str:
    return datetime.now(timezone.utc).astimezone(tz).isoformat(timespec="seconds")


def _headers(content_type: str, request_id: str) -> dict[str, str]:
    return {"Content-Type": content_type, "Cache-Control": "no-store",
            "X-CrossingGuard-Request-Id": request_id}


def block_response(policy, decision, request_id: str, accept: str) -> http.Response:
    """The 403 for a policy block: district, platform, the rule in plain words, guideline, id, time."""
    platform = policy.catalog.get(decision.platform) if decision.platform else None
    platform_name = platform.name if platform else (decision.platform or "This site")
    guideline_text = policy.guidelines.get(decision.guideline, "") if decision.guideline else ""
    when = _local_time(policy.timezone)
    if wants_json(accept):
        body = {"blocked": True, "district": policy.district_name, "platform": decision.platform,
                "platform_name": platform_name, "verdict": decision.verdict, "action": decision.action,
                "rule": decision.rule, "guideline": decision.guideline, "reason": decision.reason,
                "request_id": request_id, "time": when}
        return http.Response.make(BLOCK_STATUS, json.dumps(body, ensure_ascii=False).encode(),
                                  _headers("application/json; charset=utf-8", request_id))
    e = html.escape
    page = _template("block.html").substitute(
        district=e(policy.district_name), district_short=e(policy.district_short),
        platform=e(platform_name), reason=e(decision.reason or "Blocked by district policy."),
        guideline_id=e(decision.guideline or ""),
        guideline_text=(f"&mdash; {e(guideline_text)}" if guideline_text else ""),
        rule=e(decision.rule or ""), request_id=e(request_id), time=e(when))
    return http.Response.make(BLOCK_STATUS, page.encode(), _headers("text/html; charset=utf-8", request_id))


def fail_response(policy, host: str, request_id: str, accept: str) -> http.Response:
    """The page for the fail-closed mode: the filter itself had a problem (not a policy block)."""
    district = policy.district_name if policy else "School district"
    short = policy.district_short if policy else "District"
    tz = policy.timezone if policy else timezone.utc
    when = _local_time(tz)
    if wants_json(accept):
        body = {"blocked": True, "district": district, "reason": "filter_error",
                "message": "The district web filter could not check this request.",
                "request_id": request_id, "time": when}
        return http.Response.make(FAIL_STATUS, json.dumps(body).encode(),
                                  _headers("application/json; charset=utf-8", request_id))
    e = html.escape
    page = _template("fail.html").substitute(district=e(district), district_short=e(short),
                                             host=e(host or ""), request_id=e(request_id), time=e(when))
    return http.Response.make(FAIL_STATUS, page.encode(), _headers("text/html; charset=utf-8", request_id))
