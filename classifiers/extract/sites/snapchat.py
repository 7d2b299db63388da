"""Snapchat web (best effort): chat is gRPC-web (`application/grpc-web+proto`) to
`/messagingcoreservice.MessagingCoreService/...`, so the text is a protobuf string field. No public
schema is cited, so protobuf length-delimited fields are walked and human-looking UTF-8 strings kept;
JSON endpoints go to the generic fallback."""
from __future__ import annotations

import base64
import binascii

from classifiers.extract.posts import PostList
from classifiers.extract.request import Request
from classifiers.extract.result import ExtractError
from classifiers.extract.textlike import looks_human

MAX_FIELDS = 2_000


def extract(req: Request, out: PostList) -> bool:
    if not req.mime.startswith(("application/grpc", "application/x-protobuf", "application/protobuf")):
        return False
    path = req.path
    if not any(w in path for w in ("CreateContentMessage", "SendMessage", "Message", "Story", "UpdateDisplayName",
                                   "UpdateUser")):
        return True           # other RPCs: reads, acks, presence
    body = req.body
    if req.mime.startswith("application/grpc-web-text"):       # base64-framed variant of gRPC-web
        try:
            body = base64.b64decode(body, validate=False)
        except (binascii.Error, ValueError):
            raise ExtractError("malformed_grpc_web_text") from None
    kind = "profile" if ("DisplayName" in path or "UpdateUser" in path) else "message"
    for text in protobuf_strings(grpc_web_payload(body)):
        out.add(kind, text, account=text if kind == "profile" else None)
    return True


def grpc_web_payload(body: bytes) -> bytes:
    """gRPC-web frames: 1 flag byte, 4-byte big-endian length, message. Data frames only."""
    chunks, pos = [], 0
    while pos + 5 <= len(body):
        flag, length = body[pos], int.from_bytes(body[pos + 1:pos + 5], "big")
        frame = body[pos + 5:pos + 5 + length]
        if flag & 0x80 == 0:
            chunks.append(frame)
        pos += 5 + length
    return b"".join(chunks) if chunks else body


def protobuf_strings(data: bytes, depth: int = 0, budget: list[int] | None = None) -> list[str]:
    budget = budget if budget is not None else [MAX_FIELDS]
    found: list[str] = []
    pos, n = 0, len(data)
    while pos < n and budget[0] > 0 and depth <= 8:
        budget[0] -= 1
        key, pos = _varint(data, pos)
        if key is None:
            return found
        wire = key & 7
        if wire == 0:
            _, pos = _varint(data, pos)
            if pos is None:
                return found
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(data, pos)
            if length is None or pos + length > n:
                return found
            chunk = data[pos:pos + length]
            pos += length
            nested = protobuf_strings(chunk, depth + 1, budget) if length >= 2 else []
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None and text.isprintable() and looks_human(text, "text"):
                found.append(text)
            else:
                found.extend(nested)
        else:
            return found
    return found


def _varint(data: bytes, pos: int):
    result, shift = 0, 0
    while pos < len(data) and shift < 64:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
    return None, None
