"""TikTok: comment publish (web, old scripts with the text in the query string, and musical.ly's
legacy client with its literal `application.x-www-form-urlencoded` content type)."""
from __future__ import annotations

from classifiers.extract.posts import PostList
from classifiers.extract.request import Request


def extract(req: Request, out: PostList) -> bool:
    path = req.path.rstrip("/")
    f = req.fields()                          # query string first, body fields win
    if path.endswith("/comment/publish"):
        reply = f.get("reply_id") or f.get("reply_to_reply_id")
        if reply in ("0", ""):
            reply = None
        out.add("reply" if reply else "comment", f.get("text"), target=reply or f.get("aweme_id"))
        return True
    if "/im/" in path and path.endswith(("/send", "/send_message")):
        out.add("message", f.get("text") or f.get("content"), target=f.get("conversation_id"))
        return True
    if path.endswith(("/user/update", "/update/profile", "/commit/user")) or "/user/profile/update" in path:
        nick = f.get("nickname")
        out.add("profile", nick, account=nick)
        out.add("profile", f.get("unique_id"), account=f.get("unique_id"))
        out.add("profile", f.get("signature"), account=nick)   # TikTok calls the bio "signature"
        return True
    if any(s in path for s in ("/commit/item/digg", "/commit/follow", "/log", "/report", "/monitor")):
        return True
    return False
