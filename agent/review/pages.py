"""The server-rendered pages: sign-in, queue, incident, actions, CSV export, audit trail.

They work without JavaScript (forms and links only; the content security policy forbids
scripts). Jinja2 autoescaping is on for every .html template, so post text is shown as text.
"""
from __future__ import annotations

import secrets
import time
from functools import wraps
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, g, redirect, render_template, request, session, url_for

from agent.review import access, cases
from agent.review.app import current, utcnow
from agent.review.present import (FILTER_KEYS, BadFilter, CATEGORIES, export_csv, highlight,
                                  identified_by_words, parse_filter, parse_when, waited)
from agent.store.lifecycle import ACTIONS, TRANSITIONS, ActionRefused, NotFound, SEVERITIES_DESC
from agent.store.incident import INCIDENT_STATUSES

bp = Blueprint("pages", __name__)


def page_login_required(fn):
    @wraps(fn)
    def wrapper(*a, **kw):
        if g.account is None:
            return redirect(url_for("pages.login", next=request.full_path if request.method == "GET" else "/"))
        if request.method == "POST" and not current().csrf_ok(request.form.get("csrf")):
            return render_template("error.html", code=403,
                                   message="This form has expired or did not come from this site. "
                                           "Go back, reload the page and try again."), 403
        return fn(*a, **kw)
    return wrapper


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no //host): no open redirect after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@bp.app_context_processor
def common():
    s = getattr(g, "review_session", None)
    review = current()
    return {"account": getattr(g, "account", None), "csrf": s.csrf if s else "",
            "district": getattr(review.deps.policy, "district_name", "CrossingGuard"),
            "may_audit": g.account is not None and access.may_read_audit(g.account),
            "may_list": g.account is not None and access.may_list_incidents(g.account)}


@bp.get("/")
def home():
    if g.account is None:
        return redirect(url_for("pages.login"))
    if access.may_list_incidents(g.account):
        return redirect(url_for("pages.queue"))
    return redirect(url_for("pages.audit"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    review = current()
    if request.method == "GET":
        # A pre-session token in the signed cookie: the sign-in form carries it too.
        session["pre"] = session.get("pre") or secrets.token_urlsafe(24)
        return render_template("login.html", pre=session["pre"], next=_safe_next(request.args.get("next")),
                               error=None, oidc=review.config.oidc is not None)
    token = request.form.get("csrf", "")
    if not session.get("pre") or not secrets.compare_digest(session["pre"], token):
        session["pre"] = secrets.token_urlsafe(24)
        return render_template("login.html", pre=session["pre"], next="/", oidc=review.config.oidc is not None,
                               error="The sign-in form expired; please try again."), 403
    result = review.sign_in(request.form.get("username", ""), request.form.get("password", ""),
                            request.remote_addr or "", "form")
    if result.account is None:
        session["pre"] = secrets.token_urlsafe(24)
        code = 429 if result.retry_after else 401
        resp = Response(render_template("login.html", pre=session["pre"],
                                        next=_safe_next(request.form.get("next")), error=result.error,
                                        oidc=review.config.oidc is not None), code)
        if result.retry_after:
            resp.headers["Retry-After"] = str(int(result.retry_after) + 1)
        return resp
    review.start_session(result.account)
    return redirect(_safe_next(request.form.get("next")))


OIDC_PENDING_SECONDS = 600


@bp.get("/login/oidc")
def oidc_start():
    from agent.review.oidc import OIDCError, pkce_pair
    review = current()
    oidc = review.config.oidc
    if oidc is None:
        abort(404)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier, challenge = pkce_pair()
    now = time.monotonic()
    for k in [k for k, v in review.oidc_pending.items() if now - v["t"] > OIDC_PENDING_SECONDS]:
        review.oidc_pending.pop(k, None)
    if len(review.oidc_pending) > 10_000:
        return render_template("error.html", code=503, message="Too many sign-ins in progress; try again."), 503
    review.oidc_pending[state] = {"nonce": nonce, "verifier": verifier, "t": now,
                                  "next": _safe_next(request.args.get("next"))}
    try:
        url = oidc.authorize_url(url_for("pages.oidc_callback", _external=True), state, nonce, challenge)
    except OIDCError as exc:
        review.oidc_pending.pop(state, None)
        return render_template("error.html", code=502, message=str(exc)), 502
    return redirect(url)


@bp.get("/login/oidc/callback")
def oidc_callback():
    from agent.review.oidc import OIDCError, account_name
    review = current()
    oidc = review.config.oidc
    if oidc is None:
        abort(404)
    address = request.remote_addr or ""

    def fail(reason: str, who: str = "-", code: int = 401):
        review.throttle.failed("(oidc)", address)
        review.audit("review.login_failed", who, {"method": "oidc", "reason": reason}, actor="anonymous")
        return render_template("error.html", code=code, message="Sign-in with your district account failed: "
                               + reason + ".", back=url_for("pages.login")), code

    wait = review.throttle.retry_after("(oidc)", address)
    if wait > 0:
        review.audit("review.login_throttled", "-", {"method": "oidc"}, actor="anonymous")
        return render_template("error.html", code=429, message="Too many failed sign-ins. Try again later."), 429
    pending = review.oidc_pending.pop(request.args.get("state", ""), None)
    if pending is None or time.monotonic() - pending["t"] > OIDC_PENDING_SECONDS:
        return fail("the sign-in was not started here or took too long", code=403)
    if request.args.get("error"):
        return fail("the provider refused (" + request.args.get("error", "")[:60] + ")")
    code = request.args.get("code")
    if not code:
        return fail("no authorization code")
    try:
        claims = oidc.redeem(code, url_for("pages.oidc_callback", _external=True), pending["verifier"],
                             pending["nonce"])
    except OIDCError as exc:
        return fail(str(exc))
    name = account_name(claims)
    account = review.store.account(name) if name else None
    if account is None or account.disabled:
        return fail("no active CrossingGuard account for this identity", who=(name or "-")[:200])
    review.throttle.succeeded(account.username, address)
    review.audit("review.login", account.username, {"method": "oidc", "subject": str(claims.get("sub"))[:200]},
                 actor=account.username)
    review.start_session(account)
    # A page, not a redirect: the browser arrived here from the provider (a cross-site
    # navigation), and SameSite=Strict cookies only travel on the next same-site navigation.
    return render_template("continue.html", next=pending["next"])


@bp.post("/logout")
@page_login_required
def logout():
    current().end_session()
    return redirect(url_for("pages.login"))


def _filter_args() -> dict:
    return {k: request.args.get(k, "") for k in FILTER_KEYS}


@bp.get("/queue")
@page_login_required
def queue():
    if not access.may_list_incidents(g.account):
        abort(404)
    review = current()
    try:
        items, nxt, f = cases.page(review, g.account, request.args)
    except (BadFilter, ValueError) as exc:
        return render_template("error.html", code=400, message=str(exc)), 400
    base = access.scope(g.account)
    urgent, urgent_count = review.store.unacknowledged(base)
    review.audit("incidents.list", "incidents", {"filters": f.to_json(), "count": len(items), "via": "page"})
    now = utcnow()
    filters = _filter_args()
    keep = {k: v for k, v in filters.items() if v}
    roster = review.deps.roster
    schools = sorted(account_schools(review, g.account))
    return render_template(
        "queue.html", items=items, now=now, waited=waited, filters=filters,
        next_url=url_for("pages.queue") + "?" + urlencode({**keep, "cursor": nxt}) if nxt else None,
        first_url=url_for("pages.queue") + ("?" + urlencode(keep) if keep else ""),
        export_url=url_for("pages.export") + ("?" + urlencode(keep) if keep else ""),
        urgent=urgent, urgent_count=urgent_count, person=lambda uid: person_name(roster, uid),
        school_name=lambda org: school_name(roster, org), schools=schools,
        statuses=INCIDENT_STATUSES, severities=SEVERITIES_DESC, categories=CATEGORIES,
        platforms=sorted(p.id for p in review.deps.policy.catalog),
        paged=bool(request.args.get("cursor")))


def account_schools(review, account) -> set[str]:
    if account.role == "counselor":
        return set(account.schools)
    roster = review.deps.roster
    return {o.org_id for o in roster.orgs() if o.type == "school"} if roster is not None else set()


def person_name(roster, user_id: str) -> str:
    p = roster.get(user_id) if roster is not None and user_id else None
    if p is None:
        return ""
    return " ".join(x for x in (p.given_name, p.family_name) if x)


def school_name(roster, org_id: str | None) -> str:
    if not org_id or roster is None:
        return org_id or ""
    return roster.school_name(org_id) or org_id


@bp.get("/incidents/<incident_id>")
@page_login_required
def incident(incident_id: str):
    if not access.may_list_incidents(g.account):
        abort(404)
    review = current()
    found = cases.read(review, g.account, incident_id)
    if found is None:
        abort(404)
    inc, history = found
    show_text = access.may_see_text(g.account)
    roster = review.deps.roster
    earlier = review.store.user_incidents(inc.user, before=inc, f=access.scope(g.account)) \
        if inc.user and inc.user != "unknown" else []
    guidelines = getattr(review.deps.policy, "guidelines", {}) or {}
    devices = []
    if review.deps.devices is not None and hasattr(review.deps.devices, "entries"):
        devices = sorted({(d, ip or mac or "") for d, u, ip, mac in review.deps.devices.entries() if u == inc.user})
    possible = [a for a in ACTIONS if inc.status in TRANSITIONS[a][0]]
    return render_template(
        "incident.html", inc=inc, history=history, show_text=show_text,
        pieces=highlight(inc.text, inc.evidence) if show_text else [],
        evidence=inc.evidence, clauses=[(c, guidelines.get(c, "")) for c in inc.guidelines],
        earlier=earlier, devices=devices, person=person_name(roster, inc.user),
        school=school_name(roster, inc.school), possible=possible,
        assignable=cases.assignable(review, inc) if "assign" in possible else [],
        now=utcnow(), waited=waited, message=request.args.get("done"), identified_by_words=identified_by_words,
        school_name=lambda org: school_name(roster, org))


@bp.post("/incidents/<incident_id>/actions")
@page_login_required
def action(incident_id: str):
    if not access.may_list_incidents(g.account):
        abort(404)
    review = current()
    act = request.form.get("action", "")
    if act not in ACTIONS:
        return render_template("error.html", code=400, message="Choose one of the actions."), 400
    try:
        cases.act(review, g.account, incident_id, act, assignee=request.form.get("assignee") or None,
                  note=request.form.get("note") or None)
    except NotFound:
        abort(404)
    except ActionRefused as exc:
        return render_template("error.html", code=409, message=str(exc),
                               back=url_for("pages.incident", incident_id=incident_id)), 409
    # Post/redirect/get: a reload does not repeat the action.
    return redirect(url_for("pages.incident", incident_id=incident_id, done=act), code=303)


@bp.get("/export.csv")
@page_login_required
def export():
    if not access.may_list_incidents(g.account):
        abort(404)
    review = current()
    try:
        f = parse_filter(request.args, access.scope(g.account), review.deps.policy.timezone)
    except BadFilter as exc:
        return render_template("error.html", code=400, message=str(exc)), 400
    rows = cases.export_rows(review, g.account, f)
    review.audit("incidents.export", "incidents", {"filters": f.to_json(), "count": len(rows),
                                                  "ids": [i.id for i in rows[:1000]]})
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(export_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="incidents-{stamp}.csv"'})


@bp.get("/audit")
@page_login_required
def audit():
    if not access.may_read_audit(g.account):
        abort(404)
    review = current()
    try:
        since = request.args.get("since") or None
        since_at = parse_when(since, "since", review.deps.policy.timezone) if since else None
    except BadFilter as exc:
        return render_template("error.html", code=400, message=str(exc)), 400
    actor = request.args.get("actor") or None
    before = request.args.get("before") or None
    if before is not None and not before.isdigit():
        return render_template("error.html", code=400, message="before: expected an entry number"), 400
    page_size = 200
    entries = review.store.audit_page(since=since_at, actor=actor, limit=page_size + 1,
                                      before_seq=int(before) if before else None)
    older = None
    if len(entries) > page_size:
        entries = entries[:page_size]
        keep = {k: v for k, v in (("since", since), ("actor", actor)) if v}
        older = url_for("pages.audit", before=entries[-1]["seq"], **keep)
    problems, checked_at = chain_status(review, force=request.args.get("verify") == "now")
    review.audit("audit.view", "audit", {"since": since, "actor": actor, "before": before,
                                         "count": len(entries), "via": "page"})
    return render_template("audit.html", entries=entries, problems=problems, since=since or "", actor=actor or "",
                           older=older, checked_at=checked_at)


CHAIN_CHECK_SECONDS = 300


def chain_status(review, force: bool = False):
    """Verifying the whole chain is O(entries) (about 1 s per 100,000 here), so the result is
    kept for CHAIN_CHECK_SECONDS; `?verify=now` checks again at once. Every check is complete
    (never incremental): an edit to an old row shows up at the next check."""
    cached = getattr(review, "chain_cache", None)
    now = time.monotonic()
    if force or cached is None or now - cached[0] > CHAIN_CHECK_SECONDS:
        cached = (now, review.store.verify_audit(), utcnow())
        review.chain_cache = cached
    return cached[1], cached[2]
