"""Alert configuration: the policy file's `alerts:` section plus `crossingguard run` options.

Policy file (validated by `crossingguard check-config`; agent/policy/loader.py):

    alerts:
      review_url: http://127.0.0.1:8181      # links in alerts: <review_url>/incidents/<id>
      email:
        smtp_host: mail.example.org
        smtp_port: 587
        sender: crossingguard@example.org
        starttls: auto          # auto: when the server offers it; required; off
        username: crossingguard # optional, with password_file (first line, trailing space cut)
        password_file: /etc/crossingguard/smtp-password
        ca_file: /etc/crossingguard/mail-ca.pem   # optional: trust a private CA for STARTTLS
      oncall:                   # school org sourcedId -> addresses; `default`: any other school
        org-main: [counselor-oncall@example.org]
        default: [student-services@example.org]

Webhooks come from the command line (`--alert-webhook URL`, repeatable) with the HMAC secret
in `--alert-secret-file FILE`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_REVIEW_URL = "http://127.0.0.1:8181"


@dataclass(frozen=True)
class EmailSettings:
    smtp_host: str
    smtp_port: int = 25
    sender: str = "crossingguard@localhost"
    starttls: str = "auto"                 # auto | required | off
    username: str | None = None
    password_file: str | None = None
    ca_file: str | None = None             # trust this CA for STARTTLS (a district's own mail server)
    timeout: float = 10.0


@dataclass(frozen=True)
class AlertSettings:
    review_url: str = DEFAULT_REVIEW_URL
    email: EmailSettings | None = None
    oncall: dict[str, tuple[str, ...]] = field(default_factory=dict)   # school -> addresses
    webhooks: tuple[str, ...] = ()
    secret: bytes | None = None

    def recipients(self, school: str | None) -> tuple[str, ...]:
        """The on-call addresses for an incident of this school (`default` for any other)."""
        if school and school in self.oncall:
            return self.oncall[school]
        return self.oncall.get("default", ())

    def schools_without_oncall(self, schools) -> list[str]:
        """School ids (from the roster) whose critical incidents no e-mail would reach."""
        if self.email is None:
            return []
        return sorted(s for s in schools if not self.recipients(s))

    @property
    def enabled(self) -> bool:
        return bool(self.webhooks) or (self.email is not None and bool(self.oncall))


def check_webhook_url(url: str) -> str | None:
    """None if `url` can take alerts; otherwise what is wrong with it."""
    from urllib.parse import urlparse
    u = urlparse(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        return f"alert webhook {url!r}: expected an http:// or https:// URL"
    return None


def read_secret(path) -> bytes:
    """The webhook secret: the file's content without trailing whitespace (a final newline
    from an editor must not change the signature)."""
    with open(path, "rb") as fh:
        secret = fh.read().rstrip()
    if not secret:
        raise ValueError(f"{path}: the alert secret file is empty")
    return secret
