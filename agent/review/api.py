"""The JSON API under /api/ (DESIGN.md "Review, reports and alerts"; described by
/api/openapi.json, agent/review/openapi.py)."""
from __future__ import annotations

import math
from functools import wraps

from flask import Blueprint, g, jsonify, request

from agent.review import access, cases
from agent.review.app import current
from agent.review.openapi import document
from agent.review.present import BadFilter, detail_item, list_item, parse_limit, parse_when
from agent.store.lifecycle import ACTIONS, ActionRefused, NotFound

bp = Blueprint("api", __name__, url_prefix="/api")


def error(message: str, code: int, **headers):
    resp = jsonify(error=message)
    resp.status_code = code
    for k, v in headers.items():
        resp.headers[k.replace("_", "-")] = v
    return resp


def signed_in(fn):
    """401 without a session; 403 for a POST without the session's X-CSRF-Token."""
    @wraps(fn)
    def wrapper(*a, **kw):
        if g.account is None:
            return error("Sign in first (POST /api/login).", 401)
        if request.method == "POST" and not current().csrf_ok(request.headers.get("X-CSRF-Token")):
            return error("Missing or wrong X-CSRF-Token header.", 403)
        return fn(*a, **kw)
    return wrapper


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.post("/login")
def login():
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict) or not isinstance(body.get("username"), str) \
            or not isinstance(body.get("password"), str):
        return error('Send JSON {"username": ..., "password": ...} with Content-Type: application/json.', 400)
    review = current()
    result = review.sign_in(body["username"], body["password"], request.remote_addr or "", "api")
    if result.retry_after:
        return error(result.error, 429, Retry_After=str(max(1, math.ceil(result.retry_after))))
    if result.account is None:
        return error(result.error, 401)
    return jsonify(csrf=review.start_session(result.account))


@bp.post("/logout")
@signed_in
def logout():
    current().end_session()
    return jsonify(ok=True)


@bp.get("/incidents")
@signed_in
def incidents():
    if not access.may_list_incidents(g.account):
        return error("Your role does not see incidents.", 403)
    review = current()
    try:
        items, nxt, f = cases.page(review, g.account, request.args)
    except (BadFilter, ValueError) as exc:
        return error(str(exc), 400)
    review.audit("incidents.list", "incidents", {"filters": f.to_json(), "count": len(items), "via": "api"})
    return jsonify(items=[list_item(i) for i in items], next=nxt)


@bp.get("/incidents/<incident_id>")
@signed_in
def incident(incident_id: str):
    if not access.may_list_incidents(g.account):
        return error("Your role does not see incidents.", 403)
    review = current()
    found = cases.read(review, g.account, incident_id)
    if found is None:
        return error("Not found.", 404)
    inc, history = found
    return jsonify(detail_item(inc, history, with_text=access.may_see_text(g.account)))


@bp.post("/incidents/<incident_id>/actions")
@signed_in
def action(incident_id: str):
    if not access.may_list_incidents(g.account):
        return error("Your role does not act on incidents.", 403)
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict) or body.get("action") not in ACTIONS:
        return error(f'Send JSON {{"action": one of {", ".join(ACTIONS)}, "assignee"?, "note"?}}.', 400)
    assignee, note = body.get("assignee"), body.get("note")
    if (assignee is not None and not isinstance(assignee, str)) or (note is not None and not isinstance(note, str)):
        return error("assignee and note must be strings.", 400)
    review = current()
    try:
        cases.act(review, g.account, incident_id, body["action"], assignee=assignee, note=note)
    except NotFound:
        return error("Not found.", 404)
    except ActionRefused as exc:
        return error(str(exc), 409)
    inc, history = cases.read(review, g.account, incident_id)
    return jsonify(detail_item(inc, history, with_text=access.may_see_text(g.account)))


@bp.get("/audit")
@signed_in
def audit():
    if not access.may_read_audit(g.account):
        return error("Only auditors and admins read the audit trail.", 403)
    review = current()
    try:
        since = request.args.get("since")
        since_at = parse_when(since, "since", review.deps.policy.timezone) if since else None
        limit = parse_limit(request.args.get("limit"), default=100, maximum=1000)
    except BadFilter as exc:
        return error(str(exc), 400)
    actor = request.args.get("actor") or None
    entries = review.store.audit_page(since=since_at, actor=actor, limit=limit)
    review.audit("audit.view", "audit", {"since": since, "actor": actor, "count": len(entries), "via": "api"})
    return jsonify(items=[{k: e[k] for k in ("at", "actor", "action", "target", "detail")} for e in entries])
