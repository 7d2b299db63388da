"""Facebook: web GraphQL mutations (CometUFICreateCommentMutation, ComposerStoryCreateMutation...)
through fbgraph, and the Graph API's `message` field on /feed, /comments and /messages."""
from __future__ import annotations

from classifiers.extract.posts import PostList
from classifiers.extract.request import Request
from classifiers.extract.sites import fbgraph


def extract(req: Request, out: PostList) -> bool:
    if fbgraph.extract(req, out):
        return True
    segs = req.segments()
    if req.host.startswith("graph.") and segs:
        f = req.fields()
        last = segs[-1]
        target = segs[-2] if len(segs) >= 2 else None
        if last == "comments":
            out.add("comment", f.get("message"), target=target)
            return True
        if last == "feed":
            out.add("post", f.get("message"), target=target)
            return True
        if last == "messages":
            out.add("message", f.get("message") or f.get("text"), target=target)
            return True
    return False
