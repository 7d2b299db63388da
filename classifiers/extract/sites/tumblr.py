"""Tumblr: NPF posts (`/v2/blog/{blog}/posts`, JSON `content` blocks) and legacy `/post` forms."""
from __future__ import annotations

import re

from classifiers.extract.posts import PostList, dig
from classifiers.extract.request import Request

_POSTS = re.compile(r"/v2/blog/([^/]+)/posts(?:/(\d+))?/?$")
_LEGACY = re.compile(r"/v2/blog/([^/]+)/post(?:/edit|/reblog)?/?$")


def npf_text(blocks) -> str:
    lines = []
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            lines.append(block["text"])
        elif isinstance(block, dict) and block.get("type") in ("image", "video") and isinstance(block.get("alt_text"), str):
            lines.append(block["alt_text"])
    return "\n".join(lines)


def extract(req: Request, out: PostList) -> bool:
    m = _POSTS.search(req.path)
    if m:
        data = req.data()
        parent = dig(data, "parent_post_id")
        out.add("reply" if parent else "post", npf_text(dig(data, "content")), target=parent or m.group(1))
        return True
    m = _LEGACY.search(req.path)
    if m:
        f = req.fields()
        out.add("post", out.join(f.get("title"), f.get("body"), f.get("caption"), f.get("quote")),
                target=f.get("id") or m.group(1))
        return True
    if req.path.rstrip("/").endswith("/notes/reply") or "/replies" in req.path:
        data = req.data()
        out.add("reply", dig(data, "reply_text") or dig(data, "text"), target=dig(data, "post_id"))
        return True
    return False
