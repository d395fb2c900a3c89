"""Where attachments live: behind two tiny functions so the backend can be switched in one place.

Today: files on local disk under ``STORAGE_PATH/support/<org id>/``; keys are relative paths.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app
from werkzeug.utils import secure_filename


def _root() -> Path:
    return Path(current_app.config.get("STORAGE_PATH") or Path(current_app.instance_path) / "storage")


def save_attachment(org_id: int, filename: str, data: bytes) -> str:
    """Store ``data`` and return its key."""
    safe = secure_filename(filename) or "attachment"
    key = f"support/{int(org_id)}/{secrets.token_hex(12)}-{safe}"
    path = _root() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return key


def read_attachment(key: str) -> bytes:
    root = _root().resolve()
    path = (root / key).resolve()
    if root not in path.parents:
        raise FileNotFoundError(key)
    return path.read_bytes()
