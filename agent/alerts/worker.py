"""The delivery worker: a thread (never the proxy's event loop) that sends due deliveries from
the outbox, retries failures with backoff and counts outcomes.

Counted (agent/metrics; deploy/prometheus alerts on the failures):
  crossingguard_alerts_delivered_total{channel}          deliveries that reached their target
  crossingguard_alert_delivery_failures_total{channel}   failed attempts (each one; retried)
  crossingguard_alerts_pending                           deliveries waiting (outbox)
A delivery that still fails after MAX_ATTEMPTS (about two hours) is marked failed and logged
as an error; it stays in the outbox for IT to see.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from agent.alerts.channels import DeliveryError, PartialDelivery, send_email, send_webhook
from agent.alerts.message import MAX_ATTEMPTS, backoff
from agent.alerts.outbox import Delivery, Outbox
from agent.alerts.settings import AlertSettings
from agent.metrics import ALERT_FAILURES, ALERTS_DELIVERED, ALERTS_PENDING, COUNTERS, STATE

log = logging.getLogger("crossingguard.alerts")


class AlertWorker:
    def __init__(self, outbox: Outbox, settings: AlertSettings, *, district: str = "",
                 parallel: int = 4, poll: float = 1.0, lease: float = 60.0):
        self.outbox = outbox
        self.settings = settings
        self.district = district
        self.poll = poll
        self.lease = lease
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="crossingguard-alert")
        self._inflight: set[str] = set()
        self._inflight_lock = threading.Lock()

    # ------------------------------------------------------------------ enqueue (any thread)
    def enqueue_incident(self, incident) -> int:
        """Persist the deliveries one critical incident needs; returns how many were new."""
        from agent.alerts.message import alert_payload, needs_alert
        if not needs_alert(incident.severity):
            return 0
        payload = alert_payload(incident, self.settings.review_url)
        new = 0
        for url in self.settings.webhooks:
            new += self.outbox.enqueue(incident.id, "webhook", url, payload)
        to = self.settings.recipients(incident.school)
        if self.settings.email is not None and to:
            new += self.outbox.enqueue(incident.id, "email", ", ".join(to), payload)
        elif not to and self.settings.email is not None:
            log.error("crossingguard alerts: no on-call address for school %r (alerts.oncall); "
                      "incident %s is alerted by webhook only", incident.school, incident.id)
        if new:
            self._wake.set()
        return new

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "AlertWorker":
        STATE.register(ALERTS_PENDING, "Alert deliveries waiting to be sent (home/alerts.db).",
                       lambda: self.outbox.counts().get("pending", 0), "gauge")
        self._thread = threading.Thread(target=self._run, name="crossingguard-alerts", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None
        self._pool.shutdown(wait=True, cancel_futures=True)
        # Claimed but never attempted (cancelled above): hand the leases back, so the next start
        # sends them at once instead of after the lease runs out.
        with self._inflight_lock:
            left, self._inflight = list(self._inflight), set()
        if left:
            try:
                self.outbox.release(left)
            except Exception:
                log.exception("crossingguard alerts: releasing %d claimed deliveries failed", len(left))
        STATE.unregister(ALERTS_PENDING)

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ the loop
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                due = self.outbox.claim_due(lease=self.lease)
            except Exception:   # a locked or broken outbox: log, wait, try again
                log.exception("crossingguard alerts: reading the outbox failed")
                due = []
            fresh = []
            with self._inflight_lock:
                for d in due:
                    if d.id not in self._inflight:
                        self._inflight.add(d.id)
                        fresh.append(d)
            for d in fresh:
                try:
                    self._pool.submit(self._attempt, d)
                except RuntimeError:   # pool shut down: we are stopping; the lease runs out
                    break
            self._wake.wait(self._wait_seconds())
            self._wake.clear()

    def _wait_seconds(self) -> float:
        try:
            nxt = self.outbox.next_due()
        except Exception:
            return self.poll
        if nxt is None:
            return self.poll
        return min(self.poll, max(0.01, nxt - time.time()))

    def _attempt(self, d: Delivery) -> None:
        try:
            self._send(d)
        except PartialDelivery as exc:
            log.warning("crossingguard alerts: incident %s e-mail refused for %s", d.incident, exc)
            self.outbox.delivered(d.id)
            COUNTERS.inc(ALERTS_DELIVERED, d.channel)
        except Exception as exc:   # DeliveryError, or a bug: either way retried and counted
            reason = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            COUNTERS.inc(ALERT_FAILURES, d.channel)
            attempts = d.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                log.error("crossingguard alerts: giving up on %s alert for incident %s after %d attempts: %s",
                          d.channel, d.incident, attempts, reason)
                self.outbox.give_up(d.id, reason)
            else:
                delay = backoff(attempts)
                log.warning("crossingguard alerts: %s alert for incident %s failed (attempt %d, retry in %gs): %s",
                            d.channel, d.incident, attempts, delay, reason)
                self.outbox.retry(d.id, time.time() + delay, reason)
        else:
            self.outbox.delivered(d.id)
            COUNTERS.inc(ALERTS_DELIVERED, d.channel)
        finally:
            with self._inflight_lock:
                self._inflight.discard(d.id)
            self._wake.set()

    def _send(self, d: Delivery) -> None:
        if d.channel == "webhook":
            if not self.settings.secret:
                raise DeliveryError("no alert secret configured (--alert-secret-file)")
            send_webhook(d.target, d.payload, self.settings.secret)
        elif d.channel == "email":
            if self.settings.email is None:
                raise DeliveryError("no e-mail settings (policy alerts.email)")
            send_email(self.settings.email, [a.strip() for a in d.target.split(",") if a.strip()],
                       d.payload, self.district)
        else:
            raise DeliveryError(f"unknown channel {d.channel!r}")
