"""CROSSINGGUARD_STORE_URL overrides the policy's store.url (the password stays in a secret)."""
from __future__ import annotations

import pytest

from agent.context import DEFAULT_POLICY
from agent.errors import ConfigError
from agent.policy.loader import load_policy


def test_environment_overrides_store_url(monkeypatch):
    monkeypatch.delenv("CROSSINGGUARD_STORE_URL", raising=False)
    assert load_policy(DEFAULT_POLICY).store_url is None
    monkeypatch.setenv("CROSSINGGUARD_STORE_URL", "postgresql://cg:s3cret@db:5432/crossingguard")
    assert load_policy(DEFAULT_POLICY).store_url == "postgresql://cg:s3cret@db:5432/crossingguard"


def test_a_bad_environment_url_is_a_located_error_without_the_value(monkeypatch):
    monkeypatch.setenv("CROSSINGGUARD_STORE_URL", "mysql://cg:s3cret@db/x")
    with pytest.raises(ConfigError) as err:
        load_policy(DEFAULT_POLICY)
    assert "CROSSINGGUARD_STORE_URL" in str(err.value) and "s3cret" not in str(err.value)
