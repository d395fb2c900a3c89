"""Helpers for tests of the guarded outbound client: allowed internal hosts and listeners that must stay silent."""

from __future__ import annotations

import socket
import threading

from sqlalchemy import text


def allow_internal_hosts(app, *hosts: str) -> None:
    """Store ``outbound.allowed_internal_hosts`` as a self-hoster would (the tables are emptied after each test)."""
    from webapp.extensions import db

    with app.app_context():
        engine = db.engine
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM system_settings WHERE key = 'outbound.allowed_internal_hosts'"))
        conn.execute(
            text("INSERT INTO system_settings (key, value, created_at, updated_at) VALUES (:k, :v, now(), now())"),
            {"k": "outbound.allowed_internal_hosts", "v": ", ".join(hosts)},
        )


class SilentListener:
    """A TCP listener that counts the connections it accepts; an SSRF test asserts it got none."""

    def __init__(self, host: str = "127.0.0.1", family: int = socket.AF_INET):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()
