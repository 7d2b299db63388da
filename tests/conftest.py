"""Shared pytest setup: keep minimal. Reusable helpers live in tests/support (an importable package)."""
