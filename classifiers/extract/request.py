"""A write request as the extractors see it: host, path, query and a lazily parsed body.

Parsing happens only when an extractor asks for a representation, and each is parsed once.
Declared content types are honoured strictly (a body declared JSON that is not JSON is an
error); types that say nothing useful (text/plain, none, octet-stream) are sniffed.
"""
from __future__ import annotations

import json
import re
from functools import cached_property
from urllib.parse import parse_qsl, unquote, urlsplit

from classifiers.extract.attachments import make_attachment
from classifiers.extract.multipart import Part, parse_multipart
from classifiers.extract.result import ExtractError
from classifiers.types import Attachment

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """Valid Unicode only: json.loads keeps lone surrogate escapes (`\\ud83d` alone) as-is."""
    if _LONE_SURROGATE.search(text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.replace("\x00", "").strip()


class Request:
    def __init__(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method.upper()
        parts = urlsplit(url)
        self.host = (parts.hostname or "").lower().rstrip(".")
        self.path = unquote(parts.path) or "/"
        self.query_string = parts.query
        self.headers = {str(k).lower(): str(v) for k, v in headers.items()}
        self.body = body
        self.content_type = self.headers.get("content-type", "").strip()
        self.platform: str | None = None   # an extractor may refine it (Threads posts via i.instagram.com)

    # -- representations -------------------------------------------------------------
    @cached_property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    @cached_property
    def mime(self) -> str:
        return self.content_type.split(";")[0].strip().lower()

    @cached_property
    def kind(self) -> str:
        """json | form | multipart | text | binary | empty."""
        if not self.body.strip():
            return "empty"
        m = self.mime
        if m.startswith("multipart/"):
            return "multipart"
        # TikTok's legacy client sends the literal `application.x-www-form-urlencoded`
        if "form-urlencoded" in m:
            return "form"
        if m.endswith("json") or m.endswith("+json"):
            return "json"
        if m.startswith(("image/", "video/", "audio/")) or m in ("application/x-protobuf", "application/grpc",
                                                                 "application/grpc-web+proto",
                                                                 "application/grpc-web", "application/protobuf"):
            return "binary"
        # unhelpful or missing type: look at the bytes
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            return "garbage"
        head = text.lstrip()[:1]
        if head in "{[" and head:
            # undeclared JSON must parse to count as JSON (a GraphQL document also starts with "{")
            try:
                self.__dict__["json"] = json.loads(text)
                return "json"
            except (ValueError, RecursionError):
                return "text"
        if "=" in text and not any(c in text for c in "\n\r\t<>") or "&" in text and "=" in text:
            return "form"
        return "text"

    @cached_property
    def text_body(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise ExtractError("undecodable", "body is not UTF-8") from None

    @cached_property
    def json(self):
        if self.kind != "json":
            raise ExtractError("not_json")
        try:
            return json.loads(self.text_body)
        except (ValueError, RecursionError) as exc:
            raise ExtractError("malformed_json", str(exc)[:80]) from None

    @cached_property
    def form(self) -> dict[str, str]:
        """Form body fields (last value wins); `+` is a space, `%20` too."""
        if self.kind != "form":
            return {}
        return dict(parse_qsl(self.text_body, keep_blank_values=True))

    @cached_property
    def form_pairs(self) -> list[tuple[str, str]]:
        if self.kind != "form":
            return []
        return parse_qsl(self.text_body, keep_blank_values=True)

    @cached_property
    def parts(self) -> list[Part]:
        if self.kind != "multipart":
            return []
        return parse_multipart(self.body, self.content_type)

    @cached_property
    def multipart_fields(self) -> dict[str, str]:
        """Text parts of a multipart body (parts without a filename)."""
        out: dict[str, str] = {}
        for p in self.parts:
            if p.filename is None and not (p.content_type or "").startswith(("image/", "video/", "audio/")):
                out[p.name] = p.text()
        return out

    @cached_property
    def attachments(self) -> tuple[Attachment, ...]:
        return tuple(make_attachment(p.data, p.content_type, p.filename)
                     for p in self.parts
                     if p.filename is not None or (p.content_type or "").startswith(("image/", "video/", "audio/")))

    def fields(self) -> dict[str, str]:
        """Flat key/value fields from wherever they are: query, then form or multipart body (body wins)."""
        out = dict(self.query)
        if self.kind == "form":
            out.update(self.form)
        elif self.kind == "multipart":
            out.update(self.multipart_fields)
        return out

    def data(self):
        """The structured body: JSON as parsed; a form or multipart body as its field dict."""
        if self.kind == "json":
            return self.json
        if self.kind in ("form", "multipart"):
            return self.fields()
        return self.query

    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]


def loads_field(value: str | None):
    """JSON held inside a form field (Instagram signed_body, Facebook `variables`, Discord payload_json)."""
    if not value:
        return None
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        raise ExtractError("malformed_json", "in form field") from None
