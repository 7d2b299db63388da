"""The OpenAPI 3.0 document of the review API, served at /api/openapi.json.

Written by hand next to the handlers (agent/review/api.py) and checked against them by
tests/review/test_openapi.py (schemathesis): every generated request, no 500, every response
matching this document.
"""
from __future__ import annotations

from agent.store.lifecycle import ACTIONS, SEVERITIES_DESC
from agent.store.incident import INCIDENT_STATUSES

_STR = {"type": "string"}
_NSTR = {"type": "string", "nullable": True}
_STRS = {"type": "array", "items": _STR}


def _json(schema_ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}


def _err(description: str) -> dict:
    return {"description": description, "content": _json("Error")}


def document() -> dict:
    incident = {
        "type": "object",
        "required": ["id", "created", "user", "platform", "kind", "labels", "severity", "guidelines",
                     "status", "school", "assignee"],
        "properties": {
            "id": _STR, "created": {"type": "string", "format": "date-time"}, "user": _STR,
            "platform": _NSTR, "kind": _STR, "labels": _STRS,
            "severity": {"type": "string", "enum": list(SEVERITIES_DESC)},
            "guidelines": _STRS, "status": {"type": "string", "enum": list(INCIDENT_STATUSES)},
            "school": _NSTR, "assignee": _NSTR,
        },
    }
    detail = {
        "allOf": [{"$ref": "#/components/schemas/Incident"}, {
            "type": "object",
            "required": ["text", "scores", "evidence", "history"],
            "properties": {
                "text": {"type": "string", "nullable": True,
                         "description": "The post text; null for roles that never see text (it)."},
                "scores": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1}},
                "device": {"type": "string", "nullable": True,
                           "description": "The device the post came from: registry device id, else the client address."},
                "identified_by": {"type": "string", "nullable": True, "enum": ["auth", "device", "dhcp", "unknown", None],
                                  "description": "How the student was identified for this post."},
                "evidence": {"type": "array", "items": {"type": "object"}},
                "history": {"type": "array", "items": {
                    "type": "object", "required": ["at", "actor", "action", "detail"],
                    "properties": {"at": {"type": "string", "format": "date-time"}, "actor": _STR,
                                   "action": _STR, "detail": {"type": "object"}}}},
            }}],
    }
    unauthorized = _err("Not signed in")
    csrf = _err("Missing or wrong X-CSRF-Token, or the role may not do this")
    q = lambda name, desc, schema=None: {"name": name, "in": "query", "required": False,  # noqa: E731
                                         "description": desc, "schema": schema or _STR}
    return {
        "openapi": "3.0.3",
        "info": {"title": "CrossingGuard review API", "version": "1",
                 "description": "Staff review of flagged posts. Sign in with POST /api/login; send the "
                                "returned token as X-CSRF-Token on every later POST. Cookie session."},
        "paths": {
            "/api/login": {"post": {
                "summary": "Sign in; sets the session cookie",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["username", "password"],
                    "properties": {"username": _STR, "password": _STR}}}}},
                "responses": {
                    "200": {"description": "Signed in", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["csrf"], "properties": {"csrf": _STR}}}}},
                    "400": _err("Body is not the expected JSON"),
                    "401": _err("Wrong username or password"),
                    "413": _err("Body too large"),
                    "429": {"description": "Too many failures; wait Retry-After seconds",
                            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                            "content": _json("Error")},
                }}},
            "/api/logout": {"post": {
                "summary": "Sign out",
                "responses": {"200": {"description": "Signed out", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}}},
                    "401": unauthorized, "403": csrf}}},
            "/api/incidents": {"get": {
                "summary": "Incidents the user may see: most severe first, newest first within a severity",
                "parameters": [
                    q("status", "only this status", {"type": "string", "enum": list(INCIDENT_STATUSES)}),
                    q("severity", "only this severity", {"type": "string", "enum": list(SEVERITIES_DESC)}),
                    q("category", "only incidents flagged for this category",
                      {"type": "string", "enum": ["bullying", "threat", "self_harm", "pii", "impersonation"]}),
                    q("school", "only this school (org sourcedId)"),
                    q("platform", "only this platform id"),
                    q("since", "created at or after (ISO 8601; a bare date is local midnight)"),
                    q("until", "created before (ISO 8601; a bare date includes that day)"),
                    q("limit", "page size, 1-500 (default 50)", {"type": "integer", "minimum": 1, "maximum": 500}),
                    q("cursor", "the `next` of the previous page"),
                ],
                "responses": {
                    "200": {"description": "One page", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["items", "next"],
                        "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Incident"}},
                                       "next": _NSTR}}}}},
                    "400": _err("A parameter could not be understood"),
                    "401": unauthorized, "403": _err("The role does not see incidents (auditor)"),
                    "503": _err("Database unavailable"),
                }}},
            "/api/incidents/{id}": {"get": {
                "summary": "One incident with text, scores, evidence and history (the read is audited)",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": _STR}],
                "responses": {
                    "200": {"description": "The incident", "content": _json("IncidentDetail")},
                    "401": unauthorized, "403": _err("The role does not see incidents (auditor)"),
                    "404": _err("No such incident, or one of a school the user may not see"),
                    "503": _err("Database unavailable"),
                }}},
            "/api/incidents/{id}/actions": {"post": {
                "summary": "Assign, note, escalate, close, dismiss or reopen",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": _STR}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["action"],
                    "properties": {"action": {"type": "string", "enum": list(ACTIONS)},
                                   "assignee": _STR, "note": _STR}}}}},
                "responses": {
                    "200": {"description": "The updated incident", "content": _json("IncidentDetail")},
                    "400": _err("Body is not the expected JSON"),
                    "401": unauthorized, "403": csrf,
                    "404": _err("No such incident, or one of a school the user may not see"),
                    "409": _err("The action does not apply to the incident's status, or a bad assignee"),
                    "413": _err("Body too large"),
                    "503": _err("Database unavailable"),
                }}},
            "/api/audit": {"get": {
                "summary": "The audit trail, newest first (auditor and admin)",
                "parameters": [q("since", "at or after (ISO 8601)"), q("actor", "only this actor"),
                               q("limit", "1-1000 (default 100)", {"type": "integer", "minimum": 1, "maximum": 1000})],
                "responses": {
                    "200": {"description": "Entries", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["items"],
                        "properties": {"items": {"type": "array", "items": {
                            "type": "object", "required": ["at", "actor", "action", "target", "detail"],
                            "properties": {"at": _STR, "actor": _STR, "action": _STR, "target": _STR,
                                           "detail": {"type": "object"}}}}}}}}},
                    "400": _err("A parameter could not be understood"),
                    "401": unauthorized, "403": _err("Only auditors and admins"),
                    "503": _err("Database unavailable"),
                }}},
            "/api/openapi.json": {"get": {
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.0", "content": {"application/json": {
                    "schema": {"type": "object"}}}}}}},
        },
        "components": {
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": _STR}},
                "Incident": incident,
                "IncidentDetail": detail,
            },
        },
    }
