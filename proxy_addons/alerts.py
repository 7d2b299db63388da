"""Alerts addon: every critical incident this proxy writes is handed to the alert worker
(agent/alerts), which POSTs it to each `--alert-webhook` and e-mails the school's on-call
addresses (policy `alerts:`), with retries, from its own thread.

Incidents reach us through the flow: the posts addon (and the report page) append what they
wrote to `FlowVerdict.incidents`; this addon runs after them, takes the list and persists the
deliveries in home/alerts.db off the event loop. Pending deliveries survive a restart: the worker
picks them up when the proxy starts again.

FAIL choice: an error queueing an alert never touches the flow (the post was already judged
and its incident written); it is logged and counted (ADDON_ERRORS "alerts"). The incident is
still in the store and in the review queue, and Prometheus alerts on unacknowledged critical
incidents independently (deploy/prometheus).
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence

from mitmproxy import ctx, exceptions, http

from agent.alerts.settings import check_webhook_url
from agent.metrics import ADDON_ERRORS, COUNTERS
from proxy_addons.verdict import verdict_of

log = logging.getLogger("crossingguard.alerts")


class Alerts:
    name = "crossingguard_alerts"

    def __init__(self, core) -> None:
        self.core = core
        self.worker = None
        self.settings = None

    def load(self, loader) -> None:
        loader.add_option("crossingguard_alert_webhooks", Sequence[str], [],
                          "URLs every critical incident is POSTed to (JSON, HMAC-signed; docs/alerts.md).")
        loader.add_option("crossingguard_alert_secret_file", str, "",
                          "File holding the HMAC-SHA256 secret for alert webhooks (trailing whitespace ignored).")

    def configure(self, updated) -> None:
        if not {"crossingguard_alert_webhooks", "crossingguard_alert_secret_file", "crossingguard_home",
                "crossingguard_policy"} & set(updated):
            return
        from agent.alerts.settings import AlertSettings, read_secret
        o = ctx.options
        for url in o.crossingguard_alert_webhooks:
            problem = check_webhook_url(url)
            if problem:
                raise exceptions.OptionsError(problem)
        secret = None
        if o.crossingguard_alert_secret_file:
            try:
                secret = read_secret(o.crossingguard_alert_secret_file)
            except (OSError, ValueError) as exc:
                raise exceptions.OptionsError(f"crossingguard_alert_secret_file: {exc}") from exc
        if o.crossingguard_alert_webhooks and secret is None:
            raise exceptions.OptionsError("alert webhooks need a secret: --alert-secret-file FILE "
                                          "(crossingguard_alert_secret_file)")
        state = self.core.state
        base = (state.policy.alerts if state is not None else None) or AlertSettings()
        settings = dataclasses.replace(base, webhooks=tuple(o.crossingguard_alert_webhooks), secret=secret)
        if settings != self.settings:
            self.settings = settings
            if self.worker is not None:   # a reload while running: restart with the new settings
                self._stop_worker()
                self._start_worker()

    def running(self) -> None:
        self._start_worker()

    def done(self) -> None:
        self._stop_worker()

    def _start_worker(self) -> None:
        state = self.core.state
        if self.worker is not None or state is None or self.settings is None or not self.settings.enabled:
            return
        from agent.alerts.outbox import Outbox
        from agent.alerts.worker import AlertWorker
        missing = self.settings.schools_without_oncall(
            o.org_id for o in state.roster.orgs() if o.type == "school")
        if missing:
            log.warning("crossingguard alerts: no on-call e-mail address for school(s) %s and no `default` "
                        "(policy alerts.oncall): their critical incidents reach webhooks only", ", ".join(missing))
        self.worker = AlertWorker(Outbox(state.home / "alerts.db"), self.settings,
                                  district=state.policy.district_short).start()

    def _stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker.outbox.close()
            self.worker = None

    async def request(self, flow: http.HTTPFlow) -> None:
        await self._take(flow)

    async def websocket_message(self, flow: http.HTTPFlow) -> None:
        await self._take(flow)

    async def _take(self, flow) -> None:
        v = verdict_of(flow)
        if not v.incidents:
            return
        incidents, v.incidents = v.incidents, []
        worker = self.worker
        if worker is None:
            return
        for incident in incidents:
            try:
                await asyncio.to_thread(worker.enqueue_incident, incident)
            except Exception:   # FAIL choice: module doc
                COUNTERS.inc(ADDON_ERRORS, "alerts")
                log.exception("crossingguard alerts: queueing the alert for incident %s failed", incident.id)
