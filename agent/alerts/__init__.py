"""Urgent alerts for critical incidents (threat, self-harm): every district employee is a
mandated reporter (student guideline 6), so the people on call must hear within seconds.

  settings.py  what the policy file's `alerts:` section and `run --alert-*` options configure
  message.py   pure: the alert body (never the post text), its HMAC signature, the e-mail, backoff
  outbox.py    pending deliveries persisted in home/alerts.db (they survive a restart)
  channels.py  sending one delivery: webhook (HTTP POST) or e-mail (SMTP, STARTTLS when offered)
  worker.py    the delivery thread: off the proxy's event loop, retries with backoff, counts

Nothing here imports mitmproxy; proxy_addons/alerts.py connects it to the proxy.
"""
from __future__ import annotations

from agent.alerts.message import alert_payload, needs_alert, sign
from agent.alerts.settings import AlertSettings, EmailSettings

__all__ = ["AlertSettings", "EmailSettings", "alert_payload", "needs_alert", "sign"]
