"""Building Post records: cleaned text, no empties, no duplicates within one request."""
from __future__ import annotations

from classifiers.extract.request import clean
from classifiers.types import Attachment, Post

KINDS = ("post", "comment", "reply", "message", "profile", "signup")


class PostList:
    def __init__(self, attachments: tuple[Attachment, ...] = ()) -> None:
        self.posts: list[Post] = []
        self._seen: set[tuple[str, str]] = set()
        self.attachments = attachments

    def add(self, kind: str, text, account=None, target=None, *, allow_empty: bool = False) -> None:
        if not isinstance(text, str):
            if text is None or isinstance(text, (dict, list, bool)):
                return
            text = str(text)
        text = clean(text)
        if not text and not (allow_empty and self.attachments):
            return
        if (kind, text) in self._seen:
            return
        self._seen.add((kind, text))
        self.posts.append(Post(kind=kind, text=text, account=_opt(account), target=_opt(target),
                               attachments=self.attachments))

    def join(self, *texts) -> str:
        return "\n\n".join(clean(t) for t in texts if isinstance(t, str) and clean(t))


def _opt(value) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    value = clean(str(value))
    return value or None


def dig(obj, *path, default=None):
    """obj["a"]["b"][0]... without KeyError/TypeError: request bodies are untrusted."""
    for key in path:
        if isinstance(obj, dict) and isinstance(key, str):
            obj = obj.get(key)
        elif isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return default
        if obj is None:
            return default
    return obj
