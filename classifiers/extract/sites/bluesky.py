"""Bluesky / atproto XRPC (MarshalX/atproto and the lexicons, PLATFORMS.md). `createSession`
and `createAccount` carry `password`: only the named fields below are read."""
from __future__ import annotations

from classifiers.extract.posts import PostList, dig
from classifiers.extract.request import Request

_PASSIVE = ("app.bsky.feed.like", "app.bsky.feed.repost", "app.bsky.graph.follow", "app.bsky.graph.block",
            "app.bsky.graph.listitem")


def _record(collection, record, out: PostList) -> None:
    rtype = dig(record, "$type") or collection
    if rtype == "app.bsky.feed.post":
        parent = dig(record, "reply", "parent", "uri")
        mention = None
        for facet in dig(record, "facets") or []:
            for feat in dig(facet, "features") or []:
                if isinstance(feat, dict) and feat.get("$type") == "app.bsky.richtext.facet#mention":
                    mention = mention or feat.get("did")
        out.add("reply" if parent else "post", dig(record, "text"), target=parent or mention)
        for image in dig(record, "embed", "images") or []:
            out.add("post", dig(image, "alt"))           # alt text is written by the user too
    elif rtype == "app.bsky.actor.profile":
        name = dig(record, "displayName")
        out.add("profile", name, account=name)
        out.add("profile", dig(record, "description"), account=name)
    elif rtype == "app.bsky.graph.list":
        out.add("post", out.join(dig(record, "name"), dig(record, "description")))


def extract(req: Request, out: PostList) -> bool:
    segs = req.segments()
    if len(segs) < 2 or segs[0] != "xrpc":
        return False
    method = segs[1]
    data = req.data()
    if method in ("com.atproto.repo.createRecord", "com.atproto.repo.putRecord"):
        collection = dig(data, "collection")
        if collection in _PASSIVE:
            return True
        _record(collection, dig(data, "record") or {}, out)
        return True
    if method == "com.atproto.repo.applyWrites":
        for write in dig(data, "writes") or []:
            if isinstance(write, dict) and str(write.get("$type", "")).endswith(("#create", "#update")):
                _record(write.get("collection"), write.get("value") or {}, out)
        return True
    if method == "chat.bsky.convo.sendMessage":
        out.add("message", dig(data, "message", "text"), target=dig(data, "convoId"))
        return True
    if method == "chat.bsky.convo.sendMessageBatch":
        for item in dig(data, "items") or []:
            out.add("message", dig(item, "message", "text"), target=dig(item, "convoId"))
        return True
    if method == "com.atproto.server.createAccount":
        handle = dig(data, "handle")
        out.add("signup", handle, account=handle)
        out.add("signup", dig(data, "email"), account=handle)
        return True
    # sessions, deletes, reads and everything else carry no user text (or only secrets)
    return True
