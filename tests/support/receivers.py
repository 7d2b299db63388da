"""Local stand-ins for where alerts go: a webhook receiver (HTTP on 127.0.0.1) and an SMTP
server (aiosmtpd, optionally offering STARTTLS). Both record what arrived, with the time.

    with WebhookReceiver(fail_first=3) as hook:      # answers 500 to the first three POSTs
        hook.url; hook.wait_for(1, timeout=10); hook.received[0].body
    with SmtpReceiver() as smtp:
        smtp.port; smtp.wait_for(1); smtp.messages[0].message["To"]
"""
from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    at: float            # time.time() when it arrived
    path: str
    headers: dict        # lower-cased names
    body: bytes
    status: int          # what we answered


class WebhookReceiver:
    def __init__(self, fail_first: int = 0, port: int = 0):
        self.fail_first = fail_first
        self.attempts: list[Received] = []      # every POST, failed or not
        self._cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):   # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer._cond:
                    status = 500 if len(outer.attempts) < outer.fail_first else 200
                    outer.attempts.append(Received(time.time(), self.path, {k.lower(): v for k, v in self.headers.items()}, body, status))
                    outer._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def received(self) -> list[Received]:
        """POSTs we answered 200."""
        with self._cond:
            return [r for r in self.attempts if r.status == 200]

    def wait_for(self, n: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len([r for r in self.attempts if r.status == 200]) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
        return self.received

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():       # shutdown() waits for serve_forever: only if it runs
            self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@dataclass(frozen=True)
class Mail:
    at: float
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: email.message.EmailMessage
    tls: bool            # arrived over STARTTLS


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1; `tls_cert`/`tls_key` make it offer STARTTLS."""

    def __init__(self, tls_cert=None, tls_key=None, require_starttls: bool = False):
        from aiosmtpd.controller import Controller
        self.messages: list[Mail] = []
        self._cond = threading.Condition()
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):   # noqa: N802 - aiosmtpd's naming
                msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                               policy=email.policy.default)
                with outer._cond:
                    outer.messages.append(Mail(time.time(), envelope.mail_from, tuple(envelope.rcpt_tos), msg,
                                               session.ssl is not None))
                    outer._cond.notify_all()
                return "250 OK"

        tls_context = None
        if tls_cert:
            import ssl
            tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls_context.load_cert_chain(str(tls_cert), str(tls_key))
        from tests.support.proxy import free_port
        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, tls_context=tls_context,
                                     require_starttls=require_starttls, ready_timeout=10)

    def wait_for(self, n: int, timeout: float = 15.0) -> list[Mail]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self.messages)

    def start(self) -> "SmtpReceiver":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
