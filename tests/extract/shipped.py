"""The extraction entry points as the `extract` command calls them without --policy: platforms
found in the shipped catalog (extraction keeps no domain list of its own)."""
from __future__ import annotations

from agent.policy.catalog import default_catalog
from classifiers.extract import extract_request as _extract_request
from classifiers.extract import extract_websocket as _extract_websocket
from classifiers.extract.platforms import resolve as _resolve


def extract_request(*args, **kw):
    kw.setdefault("catalog", default_catalog())
    return _extract_request(*args, **kw)


def extract_websocket(*args, **kw):
    kw.setdefault("catalog", default_catalog())
    return _extract_websocket(*args, **kw)


def resolve(host: str, path: str):
    return _resolve(host, path, default_catalog())
