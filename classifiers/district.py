"""What the PII and impersonation detectors need to know about the district.

`District` is a small frozen record built once (from the policy, a string, or the ENSATSD
default) and shared by `classifiers.pii` and `classifiers.impersonation`:

- the names a student might use for the district or its school (full name, short name and the
  nicknames people actually say: "Essex Tech", "Essex Aggie", "ENSATS"...). The detectors use them
  for "the student's school" (student guideline 4) and for accounts that speak for the district
  (student guidelines 11 and 13);
- the words that turn a district mention into an account "on behalf of" the district: its
  CTE programs, teams, clubs and offices (guideline 11 lists programs, teachers, classrooms,
  athletics, clubs, groups and activities);
- the perceptual hashes of the district logo(s) (guideline 12: no district logo or visual
  identity on a student's account).

`as_district(obj)` accepts None (the shipped ENSATSD defaults, since this deployment is for
ENSATSD), a `District`, a plain name string, or any object with `district_name` /
`district_short` attributes (the loaded `agent.policy.Policy`), optionally `district_aliases`,
`district_programs` and `logo_phash`. Nothing here imports the policy package: the classifiers
stay usable offline with only a roster.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

# The district's own names. "Essex Tech" and "Essex Aggie" are what students say; the
# Agricultural and Technical halves were separate schools before the merger.
ENSATSD_NAME = "Essex North Shore Agricultural & Technical School District"
ENSATSD_SHORT = "ENSATSD"
ENSATSD_ALIASES = (
    "Essex North Shore Agricultural and Technical School District",
    "Essex North Shore Agricultural and Technical School",
    "Essex North Shore Agricultural & Technical School",
    "Essex North Shore",
    "Essex Tech",
    "Essex Technical",
    "Essex Technical High School",
    "Essex Aggie",
    "Essex Agricultural",
    "Essex Ag",
    "North Shore Tech",
    "ENSATS",
    "ENSATSD",
    "ENSAT",
)

# Words that, next to a district name in an account name, make it read as a district
# account (guideline 11: programs, teams, clubs, classrooms, offices) rather than a person.
PROGRAM_WORDS = (
    # CTE programs (the "technical" half) and agricultural programs
    "agriculture", "animal science", "arboriculture", "automotive", "auto tech", "biotech",
    "biotechnology", "carpentry", "construction", "cosmetology", "culinary", "culinary arts",
    "design", "visual communications", "early education", "electrical", "electronics",
    "engineering", "environmental science", "health", "health careers", "hvac", "horticulture",
    "information technology", "it department", "landscape", "landscaping", "machine tool",
    "marketing", "metal fabrication", "plumbing", "veterinary", "vet science", "welding",
    "cte", "programs", "program", "shop", "shops",
    # athletics
    "athletics", "athletic", "sports", "football", "soccer", "basketball", "baseball",
    "softball", "hockey", "lacrosse", "volleyball", "wrestling", "track", "cross country",
    "swim", "swimming", "golf", "tennis", "cheer", "cheerleading", "hawks", "varsity", "jv",
    # clubs and activities
    "robotics", "club", "clubs", "team", "teams", "band", "chorus", "drama", "theater",
    "theatre", "yearbook", "newspaper", "student council", "student government", "nhs",
    "honor society", "skillsusa", "skills usa", "ffa", "deca", "hosa", "gsa", "esports",
    "debate", "math team", "art club", "activities",
    # offices and people who speak for the district
    "principal", "superintendent", "administration", "admin", "admissions", "guidance",
    "counseling", "main office", "front office", "office", "library", "nurse", "dean",
    "department", "dept", "faculty", "staff", "pto", "boosters", "alumni association",
    "news", "announcements", "updates", "info", "hq",
)


@dataclass(frozen=True)
class District:
    name: str
    short: str
    aliases: tuple[str, ...] = ()
    programs: tuple[str, ...] = PROGRAM_WORDS
    logo_phashes: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        """Every way of naming the district, longest first (so regex alternation prefers it)."""
        seen: dict[str, str] = {}
        for n in (self.name, self.short, *self.aliases):
            n = (n or "").strip()
            if len(n) >= 3:
                seen.setdefault(n.casefold(), n)
        return tuple(sorted(seen.values(), key=len, reverse=True))


DEFAULT_DISTRICT = District(ENSATSD_NAME, ENSATSD_SHORT, ENSATSD_ALIASES)


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    return tuple(str(v) for v in value if v)


def as_district(obj: Any = None) -> District:
    """Coerce None / District / str / a policy-like object into a `District`."""
    if obj is None:
        return DEFAULT_DISTRICT
    if isinstance(obj, District):
        return obj
    if isinstance(obj, str):
        return District(obj, _initials(obj), ENSATSD_ALIASES if _is_ensatsd(obj) else ())
    name = getattr(obj, "district_name", None) or getattr(obj, "name", None)
    if not name:
        raise TypeError(f"cannot read a district name from {type(obj).__name__}")
    short = getattr(obj, "district_short", None) or _initials(name)
    aliases = _tuple(getattr(obj, "district_aliases", None))
    if not aliases and (_is_ensatsd(name) or short.upper() == ENSATSD_SHORT):
        # The shipped policy names ENSATSD but (so far) lists no nicknames: use ours.
        aliases = ENSATSD_ALIASES
    programs = _tuple(getattr(obj, "district_programs", None)) or PROGRAM_WORDS
    return District(name, short, aliases, programs, _tuple(getattr(obj, "logo_phash", None)))


def _is_ensatsd(name: str) -> bool:
    return "essex north shore" in name.casefold()


def _initials(name: str) -> str:
    return "".join(w[0] for w in re.findall(r"[A-Za-z]+", name) if w[0].isupper()) or name


def alternation(phrases: Iterable[str]) -> str:
    """A regex alternation matching each phrase case-insensitively (compile with re.I) with
    flexible spacing and "&"/"and" interchangeable; longest phrases first. Acronyms of up to
    four capitals only match in capitals."""
    parts = []
    for p in sorted({p.strip() for p in phrases if p and p.strip()}, key=len, reverse=True):
        words = re.findall(r"[A-Za-z0-9']+|&", p)
        if not words:
            continue
        pieces = [r"(?:&|and)" if w in ("&", "and") else re.escape(w) for w in words]
        joined = r"[\s._\-]*".join(pieces)
        if len(words) == 1 and len(p) <= 4 and p.isupper():
            joined = f"(?-i:{joined})"      # "SPS" yes, "sps" no: short acronyms are ordinary letters
        parts.append(joined)
    return "|".join(parts)


def phash_distance(a: str, b: str) -> int | None:
    """Hamming distance between two hex perceptual hashes of the same length, else None."""
    a, b = a.strip().lower(), b.strip().lower()
    if not a or len(a) != len(b):
        return None
    try:
        return (int(a, 16) ^ int(b, 16)).bit_count()
    except ValueError:
        return None
