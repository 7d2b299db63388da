"""Report addon: the proxy itself answers http(s)://crossingguard.internal/report, where a
student reports bullying (student guideline 9). Requests to that host are never forwarded.

GET /report shows a short form (what happened; optionally the app and a link) with a CSRF
token; POST /report checks the token and the per-student rate limit, writes an incident of kind
`report` for the student's school (severity high: the counselors' queue, like a bullying
incident) and answers with a page saying who will read it. Over the limit, the report is not
stored but nothing is lost: the page says how long to wait and gives the text back in the form.

Placed before Enforce: in `requestheaders` it records an allow Decision (rule "report-page"), so
Enforce does not judge the host and Posts does not classify the form; the answer is built in
`request`, when the body has arrived. TLS to the host is intercepted (passthrough.py) with the
district CA like any judged host.

FAIL choice: an error here answers 500 with a page (never forwarded upstream, never a silent
drop); a store outage is not an error (the store spools the incident, the report is accepted).
"""
from __future__ import annotations

import asyncio
import html
import logging
from datetime import datetime, timezone
from functools import lru_cache
from string import Template

from mitmproxy import ctx, exceptions, http

from agent.metrics import ADDON_ERRORS, COUNTERS, INCIDENTS
from agent.policy import Decision
from agent.reports import (OTHER_PLATFORM, REPORT_HOST, REPORT_PATH, RateLimiter, check_token, issue_token,
                           load_or_create_key, parse_form, readers, report_incident)
from proxy_addons.blockpage import TEMPLATES
from proxy_addons.verdict import host_of, verdict_of

log = logging.getLogger("crossingguard.report")

REPORT_DECISION = Decision(verdict="allow", action="allow", platform=None, category=None, rule="report-page",
                           guideline="student.9", reason="The district's report page, answered by the proxy.")
# Platforms offered in the form's list: where students talk to each other.
FORM_CATEGORIES = ("social", "messaging", "video", "kids", "forum")
MAX_BODY = 64 * 1024      # the form's fields fit in a tenth of this


@lru_cache(maxsize=None)
def _template() -> Template:
    css = (TEMPLATES / "page.css").read_text(encoding="utf-8")
    return Template(Template((TEMPLATES / "report.html").read_text(encoding="utf-8")).safe_substitute(style=css))


def _page(status: int, policy, title: str, body_html: str) -> http.Response:
    page = _template().substitute(title=html.escape(title), body=body_html,
                                  district=html.escape(policy.district_name),
                                  district_short=html.escape(policy.district_short))
    return http.Response.make(status, page.encode("utf-8"), {
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
        "X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                               "form-action 'self'"})


class Report:
    name = "crossingguard_report"

    def __init__(self, core) -> None:
        self.core = core
        self.limiter = RateLimiter()
        self._key: bytes | None = None
        self._key_home = None

    def load(self, loader) -> None:
        loader.add_option("crossingguard_report_limit", int, 3,
                          "Reports one student may send per crossingguard_report_window_s seconds.")
        loader.add_option("crossingguard_report_window_s", int, 600,
                          "The report page's rate-limit window, in seconds.")

    def configure(self, updated) -> None:
        if not {"crossingguard_report_limit", "crossingguard_report_window_s"} & set(updated):
            return
        o = ctx.options
        if o.crossingguard_report_limit < 1 or o.crossingguard_report_window_s < 1:
            raise exceptions.OptionsError("crossingguard_report_limit and crossingguard_report_window_s "
                                          "must be at least 1")
        self.limiter = RateLimiter(o.crossingguard_report_limit, o.crossingguard_report_window_s)

    # ------------------------------------------------------------------ hooks
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or host_of(flow) != REPORT_HOST:
            return
        verdict_of(flow).decision = REPORT_DECISION   # ours: Enforce and Posts leave it alone

    async def request(self, flow: http.HTTPFlow) -> None:
        if host_of(flow) != REPORT_HOST:
            return
        if flow.response is not None and verdict_of(flow).decision is not REPORT_DECISION:
            return   # refused earlier (e.g. proxy authentication)
        try:
            flow.response = await self._answer(flow)
        except Exception:   # FAIL choice: module doc
            COUNTERS.inc(ADDON_ERRORS, "report")
            log.exception("crossingguard report: answering the report page failed")
            flow.response = http.Response.make(500, b"The report page had a problem. Please tell a teacher "
                                               b"or another adult at school.", {"Content-Type": "text/plain"})

    # ------------------------------------------------------------------ pages
    async def _answer(self, flow) -> http.Response:
        state = self.core.require()
        policy = state.policy
        path = flow.request.path.split("?", 1)[0]
        method = flow.request.method.upper()
        if path in ("/", ""):
            return http.Response.make(302, b"", {"Location": REPORT_PATH})
        if path != REPORT_PATH:
            return _page(404, policy, "Page not found",
                         f'<p>This address only has the <a href="{REPORT_PATH}">report page</a>.</p>')
        v = verdict_of(flow)
        subject = v.subject
        who = self._who(flow, subject)
        key = self._token_key(state.home)
        if method in ("GET", "HEAD"):
            return self._form(policy, subject, issue_token(key, who))
        if method != "POST":
            return http.Response.make(405, b"", {"Allow": "GET, POST"})
        if len(flow.request.raw_content or b"") > MAX_BODY:
            return _page(413, policy, "Too long", "<p>That was more than this form takes. Please write it "
                         f'shorter and <a href="{REPORT_PATH}">send it again</a>.</p>')
        fields = {k: v_ for k, v_ in flow.request.urlencoded_form.items()}
        if not check_token(key, who, fields.get("token", "")):
            return self._form(policy, subject, issue_token(key, who), fields, status=403, problems=[
                "This form was open too long or came from somewhere else. Your words are still below: "
                "press Send again."])
        form, problems = parse_form(fields, {p.id for p in policy.catalog})
        if form is None:
            return self._form(policy, subject, issue_token(key, who), fields, status=400, problems=problems)
        wait = self.limiter.wait_seconds(who)
        if wait > 0:
            minutes = max(1, round(wait / 60))
            return self._form(policy, subject, issue_token(key, who), fields, status=429, problems=[
                f"You have sent several reports in a short time. Please wait about {minutes} minute"
                f"{'s' if minutes != 1 else ''} and press Send again: your words are still below, nothing "
                "was lost. If it cannot wait, talk to a teacher or counselor now."])
        user = getattr(subject, "user_id", None) or "unknown"
        school = subject.schools[0] if subject is not None and subject.schools else None
        incident = report_incident(form, user, school, created=datetime.now(timezone.utc),
                                   device=v.identity.device if v.identity else None,
                                   identified_by=v.identity.source if v.identity else None)
        # Off the loop: the store takes a lock and may touch disk (or spool when the database is down).
        await asyncio.to_thread(state.context.store.add_incident, incident)
        self.limiter.record(who)
        v.incidents.append(incident)
        COUNTERS.inc(INCIDENTS, incident.labels[0], incident.severity, school or "unassigned")
        school_name = state.roster.school_name(school) if school else None
        e = html.escape
        body = (f'<p class="ok">Thank you. Your report was received.</p>'
                f"<p>{e(readers(school_name, user != 'unknown'))}</p>"
                f"<p>Reporting is the right thing to do (student guideline 9: "
                f"{e(policy.guidelines.get('student.9', 'report bullying to a trusted adult'))})</p>"
                f'<p>Report number <code>{e(incident.id)}</code>. '
                f'<a href="{REPORT_PATH}">Send another report</a></p>')
        return _page(200, policy, "Report received", body)

    def _form(self, policy, subject, token: str, fields: dict | None = None, status: int = 200,
              problems: list[str] = ()) -> http.Response:
        e = html.escape
        fields = fields or {}
        known = subject is not None and getattr(subject, "user_id", "unknown") != "unknown"
        school = subject.schools[0] if known and subject.schools else None
        school_name = self.core.require().roster.school_name(school) if school else None
        chosen = (fields.get("platform") or "").lower()
        options = ['<option value="">(not sure / not online)</option>']
        platforms = sorted((p for p in policy.catalog if p.category in FORM_CATEGORIES), key=lambda p: p.name.lower())
        for p in platforms:
            sel = " selected" if p.id == chosen else ""
            options.append(f'<option value="{e(p.id)}"{sel}>{e(p.name)}</option>')
        options.append(f'<option value="{OTHER_PLATFORM}"{" selected" if chosen == OTHER_PLATFORM else ""}>'
                       "Something else</option>")
        notes = "".join(f'<p class="why">{e(p)}</p>' for p in problems)
        body = (f"{notes}"
                "<p>If someone is bullying, threatening or hurting you or another student, online or at "
                "school, tell us here. You do not need proof.</p>"
                f"<p>{e(readers(school_name, known))}</p>"
                f'<form method="post" action="{REPORT_PATH}">'
                f'<input type="hidden" name="token" value="{e(token)}">'
                '<label for="what">What happened?</label>'
                f'<textarea id="what" name="what" required maxlength="5000">{e(fields.get("what", ""))}</textarea>'
                '<label for="platform">Where? <span class="hint">(optional)</span></label>'
                f'<select id="platform" name="platform">{"".join(options)}</select>'
                '<label for="link">A link to it <span class="hint">(optional)</span></label>'
                f'<input id="link" name="link" type="text" inputmode="url" maxlength="2000" '
                f'value="{e(fields.get("link", ""))}">'
                '<button type="submit">Send</button></form>')
        return _page(status, policy, "Report bullying", body)

    @staticmethod
    def _who(flow, subject) -> str:
        """Whom the token and the rate limit belong to: the student, else the device address."""
        user = getattr(subject, "user_id", None)
        if user and user != "unknown":
            return user
        return "addr:" + str((flow.client_conn.peername or ("?",))[0])

    def _token_key(self, home) -> bytes:
        if self._key is None or self._key_home != home:
            self._key = load_or_create_key(home / "report.key")
            self._key_home = home
        return self._key
