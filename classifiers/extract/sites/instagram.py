"""Instagram private API (instagrapi's view of it, PLATFORMS.md): a form whose `signed_body` holds
`SIGNATURE.<JSON>`, so the text is JSON inside a URL-encoded field. Direct text is a plain form.
Sign-up bodies carry `enc_password`: never read (only the named fields below are taken).

Threads' app posts go through the same host (`media/configure_text_only_post/`, a
`text_post_app_info` object): those are re-labelled platform `threads`.
"""
from __future__ import annotations

import json
import re

from classifiers.extract.generic import walk
from classifiers.extract.posts import PostList, dig
from classifiers.extract.request import Request
from classifiers.extract.result import ExtractError
from classifiers.extract.sites import fbgraph

_COMMENT = re.compile(r"/media/([^/]+)/comment/?$|/web/comments/([^/]+)/add/?$")
_EDIT = re.compile(r"/media/([^/]+)/edit_media/?$")


def fields(req: Request) -> dict:
    """Plain form fields merged with the decoded `signed_body` JSON."""
    merged: dict = dict(req.fields())
    signed = merged.pop("signed_body", None)
    if signed:
        _, dot, payload = signed.partition(".")
        if not dot or not payload.lstrip().startswith("{"):
            raise ExtractError("malformed_signed_body")
        try:
            data = json.loads(payload)
        except ValueError:
            raise ExtractError("malformed_json", "in signed_body") from None
        if isinstance(data, dict):
            merged.update(data)
    if req.kind == "json" and isinstance(req.json, dict):
        merged.update(req.json)
    return merged


def is_threads(path: str, f: dict) -> bool:
    return ("text_post" in path or "text_post_app_info" in f or f.get("publish_mode") == "text_post"
            or "barcelona" in path)


def extract(req: Request, out: PostList) -> bool:
    if fbgraph.extract(req, out):
        return True
    path = req.path.rstrip("/") + "/"
    f = fields(req)
    if is_threads(path, f):
        req.platform = "threads"
        return _threads(path, f, out)
    m = _COMMENT.search(path.rstrip("/"))
    if m:
        reply_to = f.get("replied_to_comment_id")
        out.add("reply" if reply_to else "comment", f.get("comment_text"),
                target=reply_to or m.group(1) or m.group(2))
        return True
    m = _EDIT.search(path.rstrip("/"))
    if m:
        out.add("post", f.get("caption_text") or f.get("caption"), target=m.group(1))
        return True
    if "/media/configure" in path:            # configure/, configure_to_story/, configure_sidecar/, _to_clips/
        out.add("post", f.get("caption"))
        return True
    if "/direct_v2/threads/broadcast/" in path:
        target = f.get("thread_ids") or f.get("recipient_users")
        out.add("message", f.get("text") or f.get("link_text") or f.get("comment_text"), target=target)
        return True
    if path.endswith("/accounts/edit_profile/") or path.endswith("/web/accounts/edit/"):
        display = f.get("first_name") or f.get("full_name")
        account = display or f.get("username")
        out.add("profile", display, account=display)
        out.add("profile", f.get("username"), account=f.get("username"))
        out.add("profile", f.get("biography"), account=account)
        return True
    if path.endswith("/accounts/set_biography/"):
        out.add("profile", f.get("raw_text"))
        return True
    if any(path.endswith(p) for p in ("/accounts/create/", "/accounts/create_validated/",
                                      "/web/accounts/web_create_ajax/", "/web/accounts/web_create_ajax/attempt/")):
        display = f.get("first_name") or f.get("full_name")
        out.add("signup", f.get("username"), account=f.get("username"))
        out.add("signup", display, account=display)
        out.add("signup", f.get("email"), account=f.get("username"))
        return True
    if any(s in path for s in ("/accounts/login", "/accounts/logout", "/like/", "/unlike/", "/friendships/",
                               "/qe/", "/launcher/", "/logging/", "/attestation/", "/feed/", "/discover/")):
        return True
    # unknown route: the generic walk, over the decoded signed_body rather than the opaque form field
    walk(f, out)
    return True


def _threads(path: str, f: dict, out: PostList) -> bool:
    info = f.get("text_post_app_info")
    if isinstance(info, str):
        try:
            info = json.loads(info)
        except ValueError:
            info = {}
    reply = dig(info, "reply_id")
    out.add("reply" if reply else "post", f.get("caption") or f.get("text") or dig(info, "text"), target=reply)
    return True
