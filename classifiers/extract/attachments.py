"""Attachment records from uploaded bytes: type, size, SHA-256 and, for images, a perceptual hash.

The perceptual hash feeds the district-logo impersonation check (student guideline 12). It is
computed only for images within a pixel budget, with JPEG draft decoding (the decoder scales
down while reading), so a large or hostile image costs little and a broken one yields no hash.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import warnings

from classifiers.types import Attachment

MAX_PIXELS = 16_000_000          # above this no phash (decode cost and memory)
MAX_IMAGE_BYTES = 10_000_000

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)


def sniff_type(data: bytes, declared: str | None) -> str:
    for magic, ctype in _MAGIC:
        if data.startswith(magic):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return (declared or "application/octet-stream").split(";")[0].strip().lower()


def make_attachment(data: bytes, declared_type: str | None, filename: str | None = None) -> Attachment:
    ctype = sniff_type(data, declared_type)
    phash = image_phash(data) if ctype.startswith("image/") else None
    return Attachment(content_type=ctype, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                      phash=phash, filename=filename)


def image_phash(data: bytes) -> str | None:
    if len(data) > MAX_IMAGE_BYTES:
        return None
    try:
        import imagehash
        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # DecompressionBombWarning: we bound pixels ourselves
            with Image.open(io.BytesIO(data)) as img:
                w, h = img.size
                if w <= 0 or h <= 0 or w * h > MAX_PIXELS:
                    return None
                img.draft("L", (128, 128))           # JPEG: decode at reduced scale
                img = img.convert("L")
                # phash looks at a 32x32 thumbnail anyway; shrinking first with reduce() is ~20x cheaper
                # than letting it antialias the full-size picture, and the hash is the same up to a bit or two
                img.thumbnail((128, 128), Image.Resampling.BILINEAR, reducing_gap=2.0)
                return str(imagehash.phash(img))
    except Exception:                                # any broken image: no hash, never an exception
        return None


def data_uri_attachment(value: str, max_bytes: int) -> Attachment | None:
    """Discord and others send avatars as `data:image/png;base64,...` inside JSON."""
    if not value.startswith("data:") or "," not in value[:100]:
        return None
    head, _, payload = value.partition(",")
    if ";base64" not in head or len(payload) > max_bytes * 4 // 3 + 4:
        return None
    try:
        raw = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return None
    return make_attachment(raw, head[5:].split(";")[0] or None)
