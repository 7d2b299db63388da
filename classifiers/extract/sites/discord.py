"""Discord REST (discord.py / discord.py-self, PLATFORMS.md): compact JSON with ensure_ascii, so
emoji arrive as surrogate-pair escapes (json.loads joins them); with files, a multipart body whose
`payload_json` part holds the JSON and whose `files[n]` parts are the attachments."""
from __future__ import annotations

import re

from classifiers.extract.attachments import data_uri_attachment
from classifiers.extract.posts import PostList, dig
from classifiers.extract.request import Request, loads_field

_MESSAGES = re.compile(r"/channels/(\d+)/messages(?:/(\d+))?/?$")
_THREADS = re.compile(r"/channels/(\d+)(?:/messages/(\d+))?/threads/?$")


def payload(req: Request):
    if req.kind == "multipart":
        return loads_field(req.multipart_fields.get("payload_json")) or dict(req.multipart_fields)
    return req.data()


def extract(req: Request, out: PostList) -> bool:
    path = req.path
    m = _MESSAGES.search(path)
    if m:
        data = payload(req)
        ref = dig(data, "message_reference", "message_id")
        out.add("reply" if ref else "message", dig(data, "content"), target=ref or m.group(1), allow_empty=True)
        return True
    m = _THREADS.search(path)
    if m:
        data = payload(req)
        out.add("post", out.join(dig(data, "name"), dig(data, "message", "content")), target=m.group(1),
                allow_empty=True)
        return True
    if re.search(r"/users/@me(?:/profile)?/?$", path) or re.search(r"/guilds/\d+/members/@me/?$", path):
        data = payload(req)
        if not isinstance(data, dict):
            return True
        for key in ("avatar", "banner"):      # base64 data URIs: the picture is what a logo check needs
            value = data.get(key)
            if isinstance(value, str):
                att = data_uri_attachment(value, 10_000_000)
                if att is not None:
                    out.attachments = out.attachments + (att,)
        display = data.get("global_name") or data.get("nick")
        out.add("profile", display, account=display)
        out.add("profile", data.get("username"), account=data.get("username"))
        out.add("profile", data.get("bio"), account=display or data.get("username"))
        if not out.posts and out.attachments:
            out.add("profile", "", allow_empty=True)
        return True
    if path.rstrip("/").endswith("/auth/register"):   # `password` is never read
        data = payload(req)
        user = dig(data, "username")
        out.add("signup", user, account=user)
        out.add("signup", dig(data, "global_name"), account=dig(data, "global_name"))
        out.add("signup", dig(data, "email"), account=user)
        return True
    if "/auth/login" in path or "/science" in path or "/typing" in path or "/reactions/" in path \
            or path.rstrip("/").endswith("/ack"):
        return True
    return False
