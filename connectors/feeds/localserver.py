"""A tiny HTTP server on 127.0.0.1 for the demo, tests and benchmarks: serves feed files with
ETag/Last-Modified (answering 304 to conditional GETs), or answers through a handler function."""
from __future__ import annotations

import hashlib
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable, Iterator


@dataclass
class Request:
    path: str
    headers: dict[str, str]     # lowercased names


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""   # an iterable is streamed (no Content-Length)
    delay_seconds: float = 0.0           # sleep before answering (slow servers)


Handler = Callable[[Request], Response]


def guess_content_type(body: bytes) -> str:
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{"):
        return "application/feed+json"
    if b"<rdf:rdf" in head:
        return "application/rdf+xml"
    if b"<feed" in head:
        return "application/atom+xml"
    if b"<rss" in head:
        return "application/rss+xml"
    return "text/xml"


def static_handler(files: dict[str, bytes], content_types: dict[str, str] | None = None,
                   conditional: bool = True) -> Handler:
    """Serve `files` by path; ETag = content hash, so an unchanged file answers 304."""
    content_types = content_types or {}
    last_modified = formatdate(time.time() - 3600, usegmt=True)

    def handle(request: Request) -> Response:
        body = files.get(request.path.split("?", 1)[0])
        if body is None:
            return Response(404, {"Content-Type": "text/plain"}, b"not found")
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if conditional and request.headers.get("if-none-match") == etag:
            return Response(304, {"ETag": etag})
        headers = {"Content-Type": content_types.get(request.path) or guess_content_type(body)}
        if conditional:
            headers.update({"ETag": etag, "Last-Modified": last_modified})
        return Response(200, headers, body)

    return handle


def directory_files(folder: str | Path, prefix: str = "/") -> dict[str, bytes]:
    return {prefix + p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms delayed-ACK stalls
    server: "_Server"

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        response = self.server.handler(Request(self.path, {k.lower(): v for k, v in self.headers.items()}))
        if response.delay_seconds:
            time.sleep(response.delay_seconds)
        self.send_response(response.status)
        streamed = not isinstance(response.body, (bytes, bytearray))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if streamed:
            self.send_header("Connection", "close")
            self.close_connection = True
        elif response.status != 304:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        try:
            if streamed:
                for chunk in response.body:
                    self.wfile.write(chunk)
            elif response.status != 304:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (size limit, timeout): expected

    def log_message(self, *args) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, handler: Handler, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _RequestHandler)
        self.handler = handler


@contextmanager
def serve(handler: Handler, port: int = 0) -> Iterator[str]:
    """Run a server on 127.0.0.1 (``port``, or a free one) for the duration of the block; yields
    its base URL. Raises OSError when ``port`` is taken."""
    server = _Server(handler, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
