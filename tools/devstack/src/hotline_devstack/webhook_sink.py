"""A local webhook receiver for tests and benchmarks: verifies X-Hotline-Signature, records every delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    delivery_id: str
    body: dict[str, Any]  # one alert (an item of the delivery)
    signature_ok: bool
    grouped: int = 1  # how many alerts the delivery carried
    traceparent: str = ""  # the W3C trace context the call came with (the case's trace)
    at: float = field(default_factory=time.time)


class WebhookSink:
    """Answers POSTs with `status` (202 by default; set it to 500 to simulate a failing responder system) after
    `delay` seconds (0 by default); with `reset` set, it reads the request and resets the connection instead of
    answering (records nothing). With `until` (time.monotonic()) those faults end by themselves then."""

    def __init__(self, secret: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.secret = secret.encode()
        self.status = 202
        self.delay = 0.0  # seconds before answering: a slow responder system
        self.reset = False  # drop the connection with a TCP RST, unanswered: a crashing proxy or receiver
        self.until: float | None = None  # healthy again from then on, however late the next change comes
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = "sha256=" + hmac.new(sink.secret, raw, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(expected, self.headers.get("X-Hotline-Signature") or "")
                faulty = sink.until is None or time.monotonic() < sink.until
                if sink.reset and faulty:
                    # SO_LINGER 0: close() sends RST, not FIN; the caller sees "connection reset by peer".
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                status = sink.status if faulty else 202
                if sink.delay and faulty:
                    time.sleep(sink.delay)
                if status < 300:
                    try:
                        body = json.loads(raw.decode("utf-8"))
                    except ValueError:
                        body = {"_raw": raw.decode("utf-8", "replace")}
                    delivery = self.headers.get("X-Hotline-Delivery") or ""
                    # One entry per alert: a delivery may group several alerts for one responder.
                    items = body.get("items") if isinstance(body.get("items"), list) else [body]
                    with sink._cond:
                        trace = self.headers.get("traceparent") or ""
                        sink.received += [Received(delivery, item, ok, len(items), trace) for item in items]
                        sink._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:  # quiet
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # the default backlog of 5 drops connections under a burst

        self.server = Server((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="webhook-sink", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def start(self) -> WebhookSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def for_case(self, case_id: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.body.get("case_id") == case_id]

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        """Wait until `predicate(received_list)` is true."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.received):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
            return True
