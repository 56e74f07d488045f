"""The poller's HTTP endpoint for Kubernetes probes and Prometheus, on one port:
`/healthz` (liveness), `/readyz` (readiness) as JSON with 200 or 503, `/metrics` in the
Prometheus text format. A daemon thread, so it never keeps the process alive."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from .health import PollHealth


def _handler(registry: CollectorRegistry, health: PollHealth):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path in ("/healthz", "/readyz"):
                report = health.report()
                ok = report.live if path == "/healthz" else report.ready
                self._send(200 if ok else 503, json.dumps(report.as_dict()).encode() + b"\n",
                           "application/json")
            else:
                self._send(404, b"not found: /healthz, /readyz, /metrics\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # probes every few seconds would flood the log
            pass

    return Handler


def serve(port: int, addr: str, registry: CollectorRegistry, health: PollHealth):
    """Serve on addr:port (0 = a free port, read it from `server.server_address`); returns
    (server, thread). `server.shutdown()` stops it."""
    server = ThreadingHTTPServer((addr, port), _handler(registry, health))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5},
                              name="poll-http", daemon=True)
    thread.start()
    return server, thread
