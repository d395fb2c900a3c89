"""Shared helpers for workflow tests: a local HTTP server that records requests, and builders."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.factories import make_org, make_user


class Recorder:
    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.reply: dict = {"ok": True, "id": 42}
        self.next_statuses: list[int] = []  # answered first, one per request, then ``status``


def start_http_server():
    """A real HTTP server on 127.0.0.1 the HTTP step calls; it records every request it gets."""
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            recorder.requests.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            )
            payload = dict(recorder.reply)
            # An echo of what arrived, as many real APIs do — the secret must still not reach our logs.
            payload["echo_authorization"] = self.headers.get("Authorization")
            payload["echo_api_key"] = self.headers.get("X-API-Key")
            data = json.dumps(payload).encode()
            self.send_response(recorder.next_statuses.pop(0) if recorder.next_statuses else recorder.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, recorder, f"http://127.0.0.1:{server.server_address[1]}"


def owner_setup(client, role="OWNER"):
    owner = make_user()
    org = make_org(owner)
    if role != "OWNER":
        from tests.factories import add_member

        user = make_user()
        add_member(org, user, role)
        client.login(user.email)
        return user, org
    client.login(owner.email)
    return owner, org
