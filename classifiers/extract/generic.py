"""The fallback: walk any JSON, form, multipart or GraphQL body and keep the human-looking strings.

Runs when no platform extractor recognises the request (platforms change private APIs often).
Secret-named keys are never descended into; a GraphQL `query` document is skipped and only
its `variables` read; form fields holding JSON (`variables=`, `data=`) are parsed and walked.
"""
from __future__ import annotations

import json

from classifiers.extract.posts import PostList
from classifiers.extract.request import Request
from classifiers.extract.textlike import is_secret_key, key_words, looks_human

MAX_DEPTH = 24
MAX_STRINGS = 5_000
MAX_POSTS = 50

_KIND_WORDS = {"comment": "comment", "comments": "comment", "reply": "reply", "replies": "reply",
               "message": "message", "messages": "message", "dm": "message", "chat": "message",
               "bio": "profile", "biography": "profile", "about": "profile", "nickname": "profile",
               "handle": "profile", "username": "profile"}
_PROFILE_COMPACT = {"displayname", "firstname", "fullname", "globalname", "lastname", "screenname"}


def kind_for_key(path: str, default: str = "post") -> str:
    """The deepest key in the path that names a kind of content decides (`message.text` -> message)."""
    for key in reversed(path.split(".")):
        if key.replace("_", "").replace("-", "").lower() in _PROFILE_COMPACT:
            return "profile"
        for word in reversed(key_words(key)):
            if word in _KIND_WORDS:
                return _KIND_WORDS[word]
    return default


def generic_extract(req: Request, out: PostList, default_kind: str = "post") -> None:
    data = req.data()
    if isinstance(data, dict) and "query" in data and isinstance(data.get("query"), str) \
            and ("variables" in data or data["query"].lstrip().startswith(("mutation", "query", "{"))):
        data = {"variables": data.get("variables")}               # GraphQL: the document is not user text
    walk(data, out, default_kind)
    if not out.posts and out.attachments:
        out.add(default_kind, "", allow_empty=True)                # an upload with no caption still counts


def walk(data, out: PostList, default_kind: str = "post") -> None:
    budget = [MAX_STRINGS]
    _walk(data, "", out, default_kind, 0, budget)


def _walk(node, path: str, out: PostList, default_kind: str, depth: int, budget: list[int]) -> None:
    if depth > MAX_DEPTH or budget[0] <= 0 or len(out.posts) >= MAX_POSTS:
        return
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = ((path.rsplit(".", 1)[-1], v) for v in node)    # list items keep their parent's key
    elif isinstance(node, str):
        budget[0] -= 1
        key = path.rsplit(".", 1)[-1]
        s = node.strip()
        if s[:1] in "{[" and s[-1:] in "}]" and len(s) > 2:
            try:
                inner = json.loads(s)
            except ValueError:
                inner = None
            if isinstance(inner, (dict, list)):
                _walk(inner, path, out, default_kind, depth + 1, budget)
                return
        if looks_human(node, key):
            out.add(kind_for_key(path, default_kind), node)
        return
    else:
        return
    for key, value in items:
        key = str(key)
        if is_secret_key(key):
            continue
        if key in ("query", "doc_id", "queryId", "extensions", "features", "context", "client"):
            continue                                             # GraphQL documents, feature flags, client info
        _walk(value, f"{path}.{key}" if path else key, out, default_kind, depth + 1, budget)
