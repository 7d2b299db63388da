"""Mastodon REST (Mastodon.py, PLATFORMS.md): form bodies, JSON when there is a poll, multipart
when a profile picture is attached; profile fields use bracketed keys
`fields_attributes[0][name]`. Sign-up carries `password`: only the named fields are read."""
from __future__ import annotations

import re

from classifiers.extract.posts import PostList, dig
from classifiers.extract.request import Request

_FIELD = re.compile(r"^fields_attributes\[(\d+)\]\[(name|value)\]$")
_STATUS = re.compile(r"^/api/v1/statuses(?:/([^/]+))?/?$")


def _data(req: Request) -> dict:
    data = req.data()
    return data if isinstance(data, dict) else {}


def _poll_options(req: Request, data: dict) -> list[str]:
    opts = dig(data, "poll", "options")
    if isinstance(opts, list):
        return [o for o in opts if isinstance(o, str)]
    pairs = req.form_pairs or list(req.query.items())
    return [v for k, v in pairs if k in ("poll[options][]", "poll[options]")]


def extract(req: Request, out: PostList) -> bool:
    m = _STATUS.match(req.path)
    if m and (m.group(1) is None or req.method == "PUT"):
        data = _data(req)
        reply = data.get("in_reply_to_id")
        if data.get("visibility") == "direct":
            kind = "message"
        else:
            kind = "reply" if reply else "post"
        text = out.join(data.get("spoiler_text"), data.get("status"), "\n".join(_poll_options(req, data)))
        out.add(kind, text, target=reply or m.group(1))
        return True
    if req.path.rstrip("/") == "/api/v1/accounts/update_credentials":
        data = _data(req)
        name = data.get("display_name")
        out.add("profile", name, account=name)
        out.add("profile", data.get("note"), account=name)
        for label, value in _fields(data):
            out.add("profile", f"{label}: {value}" if label and value else (label or value), account=name)
        if not out.posts and out.attachments:
            out.add("profile", "", allow_empty=True)
        return True
    if req.path.rstrip("/") == "/api/v1/accounts":
        data = _data(req)
        user = data.get("username")
        out.add("signup", user, account=user)
        out.add("signup", data.get("email"), account=user)
        out.add("signup", data.get("reason"), account=user)
        return True
    if req.path.startswith(("/api/v1/statuses/", "/oauth/", "/api/v1/accounts/")):
        return True        # favourite, reblog, follow, token grants: no user text
    return False


def _fields(data: dict) -> list[tuple[str | None, str | None]]:
    attrs = data.get("fields_attributes")
    rows: dict[int, dict[str, str]] = {}
    if isinstance(attrs, list):
        rows = {i: a for i, a in enumerate(attrs) if isinstance(a, dict)}
    elif isinstance(attrs, dict):
        rows = {int(k): v for k, v in attrs.items() if str(k).isdigit() and isinstance(v, dict)}
    for key, value in data.items():
        fm = _FIELD.match(str(key))
        if fm and isinstance(value, str):
            rows.setdefault(int(fm.group(1)), {})[fm.group(2)] = value
    return [(rows[i].get("name"), rows[i].get("value")) for i in sorted(rows)]
