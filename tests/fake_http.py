"""A local JSON-over-HTTP server base for the fake upstream APIs, with fault injection.

Subclasses implement ``authorized(headers)`` and ``respond(path, query)``. The server listens on
127.0.0.1 only, on a free port, and stops by itself after ``lifetime`` seconds even if a test
forgets to stop it. Faults (429 with Retry-After, 5xx, 401) are served to the next requests
whose ``path?query`` matches a pattern, before authentication, as a proxy or gateway would.
The fake ActiveCampaign server (tests/fake_ac_server.py) shares this lifecycle, fault queue and
request log with its own, more hostile, request handler (``_handler_base``).
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    status: int  # 429, 500, 502, 503, 401...
    match: str  # regex searched in "path?query"
    times: int = 1
    retry_after: str | None = "1"


class FakeServer:
    def __init__(self, *, lifetime: float = 120.0) -> None:
        self.lifetime = lifetime
        self.faults: list[Fault] = []
        self.log: list[tuple[float, str, int]] = []  # (monotonic time, path?query, status)
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._timer: threading.Timer | None = None

    # -- to implement ---------------------------------------------------------------------------

    def authorized(self, headers: Any) -> bool:
        raise NotImplementedError

    def respond(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        raise NotImplementedError

    def _handler_base(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class; it reaches this server as ``self.fake``."""
        return _Handler

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self):  # noqa: ANN201 - returns the subclass
        handler = type("Handler", (self._handler_base(),), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._timer is not None:
            self._timer.cancel()

    def __enter__(self):  # noqa: ANN204
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- faults and log -------------------------------------------------------------------------

    def add_fault(
        self, status: int, match: str = ".", times: int = 1, retry_after: str | None = "1"
    ) -> None:
        with self.lock:
            self.faults.append(Fault(status, match, times, retry_after))

    def take_fault(self, target: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and re.search(fault.match, target):
                    fault.times -= 1
                    return fault
        return None

    def requests(self, pattern: str = ".") -> list[str]:
        with self.lock:
            return [target for _, target, _ in self.log if re.search(pattern, target)]

    def statuses(self) -> list[int]:
        with self.lock:
            return [status for _, _, status in self.log]

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        fake = self.fake
        fault = fake.take_fault(self.path)
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            status, data = fault.status, {"detail": f"injected HTTP {fault.status}"}
        elif not fake.authorized(self.headers):
            headers, status, data = {}, 401, {"detail": "Invalid token"}
        else:
            split = urllib.parse.urlsplit(self.path)
            headers = {}
            status, data = fake.respond(split.path, urllib.parse.parse_qs(split.query))
        with fake.lock:  # logged before answering: a test reads the log once its client is done
            fake.log.append((time.monotonic(), self.path, status))
        self._send(status, data, headers)
