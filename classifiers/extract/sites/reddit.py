"""Reddit's OAuth API as praw uses it: form bodies with `api_type=json` (PLATFORMS.md, Reddit)."""
from __future__ import annotations

import json

from classifiers.extract.posts import PostList
from classifiers.extract.request import Request


def _richtext(value: str | None) -> str | None:
    """richtext_json: {"document": [{"e": "par", "c": [{"e": "text", "t": "..."}]}]}."""
    if not value:
        return None
    try:
        doc = json.loads(value)
    except ValueError:
        return None
    pieces: list[str] = []

    def walk(node, depth=0):
        if depth > 20:
            return
        if isinstance(node, dict):
            if isinstance(node.get("t"), str):
                pieces.append(node["t"])
            for v in node.values():
                if isinstance(v, (list, dict)):
                    walk(v, depth + 1)
        elif isinstance(node, list):
            for v in node:
                walk(v, depth + 1)
    walk(doc)
    return " ".join(pieces) or None


def extract(req: Request, out: PostList) -> bool:
    path = req.path.rstrip("/")
    f = req.fields()
    if path.endswith("/api/comment"):
        thing = f.get("thing_id") or f.get("parent")
        kind = "reply" if thing and thing.startswith("t1_") else "comment"
        out.add(kind, f.get("text") or _richtext(f.get("richtext_json")), target=thing)
        return True
    if path.endswith("/api/submit"):
        body = f.get("text") or _richtext(f.get("richtext_json"))
        out.add("post", out.join(f.get("title"), body), target=f.get("sr"))
        return True
    if path.endswith("/api/compose"):
        out.add("message", out.join(f.get("subject"), f.get("text")), target=f.get("to"))
        return True
    if path.endswith("/api/editusertext"):
        thing = f.get("thing_id")
        kind = "comment" if thing and thing.startswith("t1_") else "post"
        out.add(kind, f.get("text") or _richtext(f.get("richtext_json")), target=thing)
        return True
    if path.endswith("/api/site_admin"):
        title = f.get("title")
        out.add("profile", title, account=title, target=f.get("sr") or f.get("name"))
        out.add("profile", f.get("public_description"), account=title)
        return True
    if path.endswith("/api/register"):       # `passwd` is never read
        user = f.get("user") or f.get("username")
        out.add("signup", user, account=user)
        out.add("signup", f.get("email"), account=user)
        return True
    if any(path.endswith(p) for p in ("/api/vote", "/api/save", "/api/unsave", "/api/hide", "/api/read_message",
                                      "/api/subscribe", "/api/v1/access_token", "/api/login")):
        return True
    return False
