"""Shared pytest setup: keep minimal. Reusable helpers live in tests/support (an importable package)."""

# `postgres_cluster` / `postgres_url`: a throw-away PostgreSQL cluster (skips without PostgreSQL).
pytest_plugins = ("tests.support.postgres",)
