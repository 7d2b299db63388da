"""Property-based requests generated from /api/openapi.json (schemathesis): no answer is a 500,
and every answer matches the document (status code listed, content type, body schema, headers).
Each generated request is sent as a signed-in admin, as an auditor and without a session."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.review.conftest import build_env

# Built at import so each operation of the document is its own test id (pytest-schemathesis'
# own plugin does not load under this pytest; hypothesis drives the strategies directly and
# the checks are schemathesis' own, through call_and_validate).
_DIR = Path(tempfile.mkdtemp(prefix="cg-openapi-"))
ENV = build_env(_DIR / "home")
SCHEMA = schemathesis.openapi.from_wsgi("/api/openapi.json", ENV.app)
OPERATIONS = [r.ok() for r in SCHEMA.get_all_operations()]


@atexit.register
def _cleanup():  # at exit, not in a fixture: every xdist worker imports this module, not all run it
    ENV.store.close()
    shutil.rmtree(_DIR, ignore_errors=True)


def session_headers(username: str) -> dict:
    """A fresh signed-in session without paying for argon2 on every example: made in the
    registry, its id in a cookie signed exactly as Flask signs it."""
    review = ENV.app.extensions["crossingguard_review"]
    s = review.sessions.create(username, "127.0.0.1")
    cookie = ENV.app.session_interface.get_signing_serializer(ENV.app).dumps({"sid": s.sid})
    return {"cg_review": cookie}, {"X-CSRF-Token": s.csrf}


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_api_conforms_to_its_document(operation):
    statuses: list[int] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        plain_headers, plain_cookies = dict(case.headers or {}), dict(case.cookies or {})
        for who in ("admin1", "aud", None):
            case.headers, case.cookies = dict(plain_headers), dict(plain_cookies)
            if who:
                cookies, headers = session_headers(who)
                case.cookies.update(cookies)
                case.headers.update(headers)
            # Every schemathesis check but positive_data_acceptance: the cursor is opaque (only a
            # `next` this server issued is valid) and since/until are free-form dates, so a
            # schema-valid random string may rightly get 400.
            statuses.append(case.call_and_validate(excluded_checks=[positive_data_acceptance]).status_code)

    check()
    assert statuses and 500 not in statuses
    # signed-in requests were really answered as such (not all 401)
    assert set(statuses) - {401}, statuses


def test_document_lists_every_api_route():
    doc = ENV.client().get("/api/openapi.json").json
    routes = {r.rule.replace("<incident_id>", "{id}") for r in ENV.app.url_map.iter_rules()
              if r.rule.startswith("/api/")}
    assert routes == set(doc["paths"])
