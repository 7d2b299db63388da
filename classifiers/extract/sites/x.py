"""X (Twitter): GraphQL mutations by operation name, DMs, profile updates (PLATFORMS.md, X)."""
from __future__ import annotations

from classifiers.extract.posts import PostList, dig
from classifiers.extract.request import Request

_TWEET_OPS = ("CreateTweet", "CreateNoteTweet")


def extract(req: Request, out: PostList) -> bool:
    segs = req.segments()
    if "graphql" in segs:
        return _graphql(segs[-1], req, out)      # queryId changes per release; the name does not
    path = req.path.rstrip("/")
    if path.endswith(("/dm/new2.json", "/dm/new.json")):
        data = req.data()
        target = data.get("conversation_id") or data.get("recipient_ids") if isinstance(data, dict) else None
        out.add("message", dig(data, "text"), target=target)
        return True
    if path.endswith("/account/update_profile.json"):
        f = req.fields()                          # form body, or the query string (twitter-api-client)
        name = f.get("name")
        out.add("profile", name, account=name)
        out.add("profile", f.get("description"), account=name)
        out.add("profile", f.get("location"), account=name)
        return True
    if path.endswith("/statuses/update.json"):    # v1.1 API, still used by scripts
        f = req.fields()
        reply = f.get("in_reply_to_status_id")
        out.add("reply" if reply else "post", f.get("status"), target=reply)
        return True
    if path.endswith("/2/tweets"):                # v2 API
        data = req.data()
        reply = dig(data, "reply", "in_reply_to_tweet_id")
        out.add("reply" if reply else "post", dig(data, "text"), target=reply)
        return True
    return False


def _graphql(op: str, req: Request, out: PostList) -> bool:
    data = req.data()
    variables = dig(data, "variables") or {}
    if op in _TWEET_OPS:
        reply = dig(variables, "reply", "in_reply_to_tweet_id")
        out.add("reply" if reply else "post", dig(variables, "tweet_text"), target=reply)
        return True
    if op == "CreateScheduledTweet":
        req_ = dig(variables, "post_tweet_request") or {}
        reply = dig(req_, "in_reply_to_status_id")
        out.add("reply" if reply else "post", dig(req_, "status"), target=reply)
        return True
    if op == "useSendMessageMutation":
        target = (dig(variables, "target", "conversation_id") or dig(variables, "conversation_id")
                  or dig(variables, "target", "participant_ids"))
        out.add("message", dig(variables, "message", "text", "text"), target=target)
        return True
    if op in ("FavoriteTweet", "UnfavoriteTweet", "CreateRetweet", "DeleteRetweet", "DeleteTweet",
              "CreateBookmark", "DeleteBookmark"):
        return True                               # no user text
    return False
