"""Meta web GraphQL (Facebook, Instagram web, Threads web): a form with `fb_api_req_friendly_name`,
`doc_id` and `variables` (JSON in a form field). The friendly name says what the mutation does;
the user's text sits in `message.text`, `text` or `bio`-like fields of `variables.input`."""
from __future__ import annotations

from classifiers.extract.generic import walk
from classifiers.extract.posts import PostList, dig
from classifiers.extract.request import Request, loads_field


def friendly_name(req: Request) -> str | None:
    f = req.fields()
    return f.get("fb_api_req_friendly_name") or req.headers.get("x-fb-friendly-name")


def kind_for(name: str) -> str:
    n = name.lower()
    if "comment" in n:
        return "reply" if "reply" in n else "comment"
    if "message" in n or "send" in n or "messenger" in n:
        return "message"
    if "bio" in n or "profile" in n or "intro" in n or "name" in n:
        return "profile"
    return "post"


def extract(req: Request, out: PostList) -> bool:
    name = friendly_name(req)
    if not name:
        return False
    if not name.endswith("Mutation"):
        return True                                # queries read, they do not publish
    variables = loads_field(req.fields().get("variables")) or {}
    kind = kind_for(name)
    inp = dig(variables, "input") if isinstance(dig(variables, "input"), dict) else variables
    target = (dig(inp, "feedback_id") or dig(inp, "reply_comment_parent_fbid") or dig(inp, "post_id")
              or dig(inp, "thread_id") or dig(inp, "media_id"))
    if kind == "comment" and dig(inp, "reply_comment_parent_fbid"):
        kind, target = "reply", dig(inp, "reply_comment_parent_fbid")
    before = len(out.posts)
    for text in _texts(inp):
        out.add(kind, text, target=target)
    if len(out.posts) == before:
        walk(inp, out, kind)
    return True


def _texts(inp) -> list[str]:
    found = []
    for path in (("message", "text"), ("text",), ("comment_text",), ("caption",), ("bio",),
                 ("text_with_entities", "text"), ("composer_text",), ("message", "message", "text"),
                 ("text_post_app_info", "text")):
        value = dig(inp, *path)
        if isinstance(value, str):
            found.append(value)
    return found
