"""The policy: platform catalog, cohorts, schedules, ordered rules, teacher sessions.

Pure core (no mitmproxy). See agent/policy/loader.py for the policy file format and
docs/interfaces.md for the contracts.
"""
from agent.policy.catalog import CATEGORIES, Catalog, Platform, default_catalog, normalize_host
from agent.policy.model import (ACTIONS, Cohort, Decision, Policy, Rule, SafeSearchSettings, Subject)
from agent.policy.schedules import Schedule
from agent.policy.sessions import TeacherSession


def load_policy(path):
    from agent.policy.loader import load_policy as _load
    return _load(path)


def __getattr__(name):  # PolicyEngine lazily, so `from agent.policy import Subject` stays light
    if name == "PolicyEngine":
        from agent.policy.engine import PolicyEngine
        return PolicyEngine
    raise AttributeError(name)


__all__ = ["ACTIONS", "CATEGORIES", "Catalog", "Cohort", "Decision", "Platform", "Policy", "PolicyEngine", "Rule",
           "SafeSearchSettings", "Schedule", "Subject", "TeacherSession", "default_catalog", "load_policy",
           "normalize_host"]
