"""A webhook receiver on loopback for the tests: it answers from a script and keeps every
request it got (body, headers, when)."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    url: str
    # Each request takes the next answer: a status code, or "hang" (answer nothing until
    # ``release`` is set). When the script runs out, the last answer repeats.
    script: list = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    got: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"got {len(self.requests)} of {count} requests"
            time.sleep(0.05)
        return self.requests


@contextlib.contextmanager
def receiver(script=None, *, headers: dict[str, str] | None = None):
    state: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            number = len(state.requests)
            state.requests.append(Received(self.path, dict(self.headers), body, time.monotonic()))
            state.got.set()
            answer = state.script[min(number, len(state.script) - 1)]
            if answer == "hang":
                state.release.wait(30)
                return
            self.send_response(answer)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = Receiver(url=f"http://127.0.0.1:{server.server_port}/hook", script=script or [200])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
