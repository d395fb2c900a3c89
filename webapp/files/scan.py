"""Virus scanning with clamd's INSTREAM command over TCP, when ``CLAMD_HOST`` is configured."""

from __future__ import annotations

import socket
import struct
from typing import BinaryIO

from flask import current_app

CHUNK = 64 * 1024


class ScanUnavailable(RuntimeError):
    pass


def scanner_configured() -> bool:
    return bool(current_app.config.get("CLAMD_HOST"))


def scan_stream(stream: BinaryIO) -> tuple[bool, str]:
    """(clean, what clamd said). Raises ScanUnavailable when clamd cannot be reached."""
    host, port = current_app.config["CLAMD_HOST"], int(current_app.config.get("CLAMD_PORT", 3310))
    try:
        with socket.create_connection((host, port), timeout=30) as conn:
            conn.sendall(b"zINSTREAM\0")
            while chunk := stream.read(CHUNK):
                conn.sendall(struct.pack("!L", len(chunk)) + chunk)
            conn.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                part = conn.recv(4096)
                if not part:
                    break
                reply += part
    except OSError as error:
        raise ScanUnavailable(f"clamd at {host}:{port} unreachable: {type(error).__name__}") from None
    answer = reply.rstrip(b"\0").decode(errors="replace").strip()
    if answer.endswith("OK"):
        return True, answer
    if answer.endswith("FOUND"):
        return False, answer
    raise ScanUnavailable(f"clamd answered: {answer[:200]}")
