"""Pinterest: the web app posts `/resource/<Name>Resource/<action>/` with a form field `data` holding
JSON `{"options": {...}}`; the v5 API takes plain JSON."""
from __future__ import annotations

import re

from classifiers.extract.posts import PostList, dig
from classifiers.extract.request import Request, loads_field

_RESOURCE = re.compile(r"/resource/(\w+)Resource/(\w+)/?$")


def extract(req: Request, out: PostList) -> bool:
    m = _RESOURCE.search(req.path)
    if m:
        name, action = m.group(1), m.group(2)
        options = dig(loads_field(req.fields().get("data")), "options") or {}
        if action not in ("create", "update"):
            return True
        if name in ("Pin", "PinCreate"):
            out.add("post", out.join(options.get("title"), options.get("description")),
                    target=options.get("board_id"))
        elif "Comment" in name:
            out.add("comment", options.get("text"), target=options.get("objectId") or options.get("pin_id"))
        elif name in ("UserSettings", "UserProfile", "User"):
            display = out.join(options.get("first_name"), options.get("last_name")).replace("\n\n", " ")
            out.add("profile", display, account=display)
            out.add("profile", options.get("username"), account=options.get("username"))
            out.add("profile", options.get("about"), account=display or options.get("username"))
        elif name == "Board":
            out.add("post", out.join(options.get("name"), options.get("description")))
        elif "Conversation" in name or "Message" in name:
            out.add("message", options.get("text"), target=options.get("conversation_id"))
        else:
            return False
        return True
    path = req.path.rstrip("/")
    if path.endswith("/v5/pins"):
        data = req.data()
        out.add("post", out.join(dig(data, "title"), dig(data, "description"), dig(data, "alt_text")),
                target=dig(data, "board_id"))
        return True
    return False
