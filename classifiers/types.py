"""Records that cross the boundary between extraction, classification and incidents."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

CATEGORIES = ("bullying", "threat", "self_harm", "pii", "impersonation")


@dataclass(frozen=True)
class Attachment:
    content_type: str
    size: int
    sha256: str
    phash: str | None = None       # perceptual hash (hex) for images
    filename: str | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Post:
    """One piece of user-written content found in a request (DESIGN.md `extract` contract)."""
    kind: str                      # post | comment | reply | message | profile | signup
    text: str
    account: str | None = None     # display name / handle being set (profile, signup)
    target: str | None = None      # reply-to id, mention, recipient
    attachments: tuple[Attachment, ...] = ()

    def to_json(self) -> dict:
        return {"kind": self.kind, "text": self.text, "account": self.account, "target": self.target,
                "attachments": [a.to_json() for a in self.attachments]}


@dataclass(frozen=True)
class Evidence:
    category: str                  # one of CATEGORIES
    kind: str                      # model | pattern | phone | address | email | dob | school | student_name | claim | district | logo ...
    text: str                      # the span as written by the student
    start: int | None = None       # offsets into the original text (None: not a text span, e.g. an image)
    end: int | None = None
    weight: float = 1.0

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class PostInput:
    """What the classifiers see: the text plus who wrote it and where."""
    text: str
    author: str | None = None      # roster user id
    platform: str | None = None
    kind: str | None = None
    account: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass
class Classification:
    scores: dict[str, float]                       # every category in CATEGORIES, in [0, 1]
    labels: list[str]                              # categories over their thresholds
    evidence: list[Evidence] = field(default_factory=list)
    help_seeking: bool = False                     # protected: never routed as misconduct
