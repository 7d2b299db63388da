"""YouTube: InnerTube (`/youtubei/v1/...`, JSON with a `context` block and opaque params) and the
Data API v3 (commentThreads, comments)."""
from __future__ import annotations

from classifiers.extract.posts import PostList, dig
from classifiers.extract.request import Request


def extract(req: Request, out: PostList) -> bool:
    path = req.path.rstrip("/")
    if "/youtubei/v1/" in path:
        data = req.data()
        if path.endswith("/comment/create_comment"):
            out.add("comment", dig(data, "commentText"))
            return True
        if path.endswith("/comment/create_comment_reply"):
            out.add("reply", dig(data, "commentText"))
            return True
        if path.endswith("/comment/update_comment") or path.endswith("/comment/update_comment_reply"):
            out.add("comment", dig(data, "commentText"))
            return True
        if path.endswith("/channel/edit_name"):
            name = dig(data, "givenName")
            out.add("profile", name, account=name)
            return True
        if path.endswith("/channel/edit_description"):
            out.add("profile", dig(data, "givenDescription"))
            return True
        if path.endswith("/channel/edit_handle"):
            handle = dig(data, "handle")
            out.add("profile", handle, account=handle)
            return True
        if path.endswith("/live_chat/send_message"):
            segments = dig(data, "richMessage", "textSegments") or []
            text = "".join(s.get("text", "") for s in segments if isinstance(s, dict) and isinstance(s.get("text"), str))
            out.add("message", text)
            return True
        return True      # other InnerTube calls (browse, next, log_event, like) carry no user text
    if "/youtube/v3/commentThreads" in path:
        data = req.data()
        snippet = dig(data, "snippet") or {}
        out.add("comment", dig(snippet, "topLevelComment", "snippet", "textOriginal"),
                target=dig(snippet, "videoId") or dig(snippet, "channelId"))
        return True
    if "/youtube/v3/comments" in path:
        data = req.data()
        parent = dig(data, "snippet", "parentId")
        out.add("reply" if parent else "comment", dig(data, "snippet", "textOriginal"), target=parent)
        return True
    if "/youtube/v3/" in path:
        return False
    return False
