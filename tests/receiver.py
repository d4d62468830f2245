"""A webhook receiver for the tests: a real local HTTP server that checks every delivery's
Standard Webhooks signature (the ``receiver`` fixtures are in ``conftest``)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    """A webhook receiver on a free local port: verifies each request's signature and records
    it (webhook-id, parsed body, arrival order). ``status``/``headers`` set the answer,
    ``delay`` makes it slow, ``down()``/``up()`` close and reopen the port."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.status = 200
        self.headers: dict[str, str] = {}
        self.delay = 0.0
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if receiver.delay:
                    receiver.release.wait(receiver.delay)
                try:
                    assert receiver.secret is not None
                    Webhook(receiver.secret).verify(body, dict(self.headers))
                    verified = True
                except WebhookVerificationError:
                    verified = False
                with receiver.lock:
                    receiver.received.append(
                        {
                            "id": self.headers["webhook-id"],
                            "body": json.loads(body),
                            "raw": body,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "verified": verified,
                            "at": time.monotonic(),
                        }
                    )
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
        self.server = None

    def ids(self) -> list[str]:
        with self.lock:
            return [r["id"] for r in self.received]

    def close(self) -> None:
        self.release.set()
        if self.server is not None:
            self.down()
