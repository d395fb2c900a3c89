"""A real HTTP receiver on loopback that records every webhook request it gets."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """``answers``: statuses to give in turn (then ``default``); ``"timeout"`` sleeps past the client's timeout."""

    def __init__(self, default: int = 200, delay: float = 0.0):
        self.requests: list[dict] = []
        self.answers: list = []
        self.default, self.delay, self.sleep_for = default, delay, 3.0
        self.reply: bytes | None = None  # the body to answer with, instead of a small JSON document
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                    answer = receiver.answers.pop(0) if receiver.answers else receiver.default
                try:
                    if receiver.delay:
                        time.sleep(receiver.delay)
                    if answer == "timeout":
                        time.sleep(receiver.sleep_for)
                        answer = 200
                    with receiver.lock:
                        receiver.requests.append(
                            {"path": self.path, "headers": dict(self.headers), "body": body, "answered": answer}
                        )
                    payload = receiver.reply or json.dumps({"received": True, "status": answer}).encode()
                    self.send_response(answer)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with receiver.lock:
                        receiver.in_flight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self, answered: int | None = 200) -> list[dict]:
        """The JSON bodies received (answered with ``answered``; None for all)."""
        return [json.loads(r["body"]) for r in self.requests if answered is None or r["answered"] == answered]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verify(header: str, body: bytes, secret: str, tolerance: int = 300, now: float | None = None) -> bool:
    """The published scheme, written from the docs: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>;
    any v1 may match."""
    parts = [p.split("=", 1) for p in header.split(",")]
    timestamps = [v for k, v in parts if k == "t"]
    signatures = [v for k, v in parts if k == "v1"]
    if len(timestamps) != 1 or not signatures:
        return False
    t = timestamps[0]
    if abs((now or time.time()) - int(t)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)
