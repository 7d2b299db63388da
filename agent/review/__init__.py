"""The counselors' review app (issue 9): Flask pages and a JSON API over the store.

`create_app(deps, config)` in app.py; `crossingguard review` serves it (agent/commands/review.py);
roles in access.py; contracts in ../shared/DESIGN.md; user guide in docs/review.md.
"""
