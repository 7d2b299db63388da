"""Sending one delivery. Each function returns None on success or raises DeliveryError with a
short reason (it becomes the delivery's last_error; never post text, there is none to leak).

Webhook: POST the signed body; any 2xx is delivered, anything else (or no answer within the
timeout) is a failure to retry. E-mail: SMTP; STARTTLS when the server offers it (`auto`), or
refused without it (`required`); the certificate is verified (`ca_file` for a private CA).
"""
from __future__ import annotations

import smtplib
import ssl
import urllib.error
import urllib.request

from agent.alerts.message import SIGNATURE_HEADER, body_bytes, email_message, sign
from agent.alerts.settings import EmailSettings


class DeliveryError(Exception):
    pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed attempt (HTTP 3xx), not a silent re-POST elsewhere: urllib would turn
    the POST into a bodiless GET, and the signed alert must reach the configured URL only."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def send_webhook(url: str, payload: dict, secret: bytes, timeout: float = 10.0) -> None:
    body = body_bytes(payload)
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "CrossingGuard-Alerts/1",
        SIGNATURE_HEADER: sign(body, secret),
    })
    try:
        with _OPENER.open(req, timeout=timeout) as resp:   # URL from the operator (--alert-webhook)
            status = resp.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status}")


def _password(settings: EmailSettings) -> str | None:
    if not settings.password_file:
        return None
    with open(settings.password_file, encoding="utf-8") as fh:
        return fh.readline().rstrip()


def send_email(settings: EmailSettings, to: list[str], payload: dict, district: str = "") -> None:
    msg = email_message(payload, to, settings.sender, district)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout) as smtp:
            smtp.ehlo()
            if settings.starttls != "off" and smtp.has_extn("starttls"):
                context = ssl.create_default_context(cafile=settings.ca_file)
                smtp.starttls(context=context)
                smtp.ehlo()
            elif settings.starttls == "required":
                raise DeliveryError(f"{settings.smtp_host}:{settings.smtp_port} does not offer STARTTLS "
                                    "(alerts.email.starttls: required)")
            if settings.username:
                smtp.login(settings.username, _password(settings) or "")
            refused = smtp.send_message(msg, from_addr=settings.sender, to_addrs=list(to))
    except DeliveryError:
        raise
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"SMTP {type(exc).__name__}: {str(exc)[:200]}") from None
    if refused:
        # Some recipients refused: the rest have it. Retrying would send them a second copy,
        # so this counts as delivered and the refused addresses are logged by the worker.
        raise DeliveryError(f"refused recipients: {', '.join(sorted(refused))}") if len(refused) == len(to) \
            else PartialDelivery(sorted(refused))


class PartialDelivery(Exception):
    """Delivered to some recipients; the others were refused by the server."""

    def __init__(self, refused: list[str]):
        super().__init__(", ".join(refused))
        self.refused = refused
