"""Twitch: chat is IRC over WebSocket (`irc-ws.chat.twitch.tv`): `PRIVMSG #channel :text`, optionally
with IRCv3 tags (`@reply-parent-msg-id=...`). The web app's GraphQL (gql.twitch.tv) takes a JSON
list of operations; chat messages and profile edits are read by operation name."""
from __future__ import annotations

from classifiers.extract.posts import PostList, dig
from classifiers.extract.request import Request


def irc_lines(message: str, out: PostList) -> None:
    for line in message.split("\n")[:100]:
        line = line.rstrip("\r")
        tags = {}
        if line.startswith("@"):
            raw_tags, _, line = line.partition(" ")
            for item in raw_tags[1:].split(";"):
                k, _, v = item.partition("=")
                tags[k] = v
        if line.startswith(":"):                      # a prefix (server echo); a client sends none
            _, _, line = line.partition(" ")
        command, _, rest = line.partition(" ")
        if command.upper() != "PRIVMSG":
            continue                                  # PASS (oauth token), NICK, JOIN, PING: never read
        channel, _, text = rest.partition(" :")
        if text.startswith("\x01ACTION ") and text.endswith("\x01"):
            text = text[8:-1]                         # /me
        reply = tags.get("reply-parent-msg-id")
        out.add("reply" if reply else "message", text, target=reply or channel.strip())


def extract(req: Request, out: PostList) -> bool:
    if not req.host.startswith("gql.") or req.kind != "json":
        return False
    ops = req.json if isinstance(req.json, list) else [req.json]
    for op in ops:
        name = dig(op, "operationName") or ""
        inp = dig(op, "variables", "input") or {}
        if name == "sendChatMessage":
            out.add("message", dig(inp, "message"), target=dig(inp, "channelID"))
        elif name in ("UpdateUserProfile", "UpdateUserDisplayName"):
            name_ = dig(inp, "displayName")
            out.add("profile", name_, account=name_)
            out.add("profile", dig(inp, "description"), account=name_)
    return True
