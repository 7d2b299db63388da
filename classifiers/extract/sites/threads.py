"""Threads: the app posts through i.instagram.com (see instagram.py); the web app posts to
threads.net with the same form fields (`caption`, `text_post_app_info`) or Meta web GraphQL. The
official Threads API (graph.threads.net/v1.0/{user}/threads) takes `text`, `media_type` and
`reply_to_id` as form fields or query parameters; `/threads_publish` only publishes a container."""
from __future__ import annotations

from classifiers.extract.posts import PostList
from classifiers.extract.request import Request
from classifiers.extract.sites import fbgraph, instagram


def extract(req: Request, out: PostList) -> bool:
    if req.host.startswith("graph."):
        return _graph_api(req, out)
    if fbgraph.extract(req, out):
        return True
    path = req.path.rstrip("/") + "/"
    f = instagram.fields(req)
    if "/media/configure" in path or "text_post_app_info" in f or "caption" in f:
        instagram._threads(path, f, out)
        return True
    if "/accounts/edit_profile/" in path or "/accounts/set_biography/" in path:
        return instagram.extract(req, out)
    return False


def _graph_api(req: Request, out: PostList) -> bool:
    segs = req.segments()
    if not segs or segs[-1] != "threads":
        return True                      # threads_publish, manage_reply, tokens: no new text
    f = req.fields()
    reply = f.get("reply_to_id")
    out.add("reply" if reply else "post", f.get("text"), target=reply)
    return True
