"""Files in a local folder; signed URLs are HMAC-signed links to ``/storage/<key>``."""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from webapp.storage.base import CHUNK_SIZE, ByteSource, ByteStream, ObjectMissing, Storage, TooLarge, valid_key


def _signature(secret: str, key: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()


class LocalStorage(Storage):
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / valid_key(key)

    def save(self, key: str, stream: ByteSource, *, max_bytes: int | None = None, content_type: str = "") -> int:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        # Write to a temporary file beside the target and rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK_SIZE):
                    written += len(chunk)
                    if max_bytes is not None and written > max_bytes:
                        raise TooLarge(f"larger than {max_bytes} bytes")
                    out.write(chunk)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return written

    def open(self, key: str) -> ByteStream:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    def local_path(self, key: str) -> Path:
        """For tools that need a file name (ffprobe); the S3 backend downloads to a temp file instead."""
        return self.path(key)

    def signed_url(self, key: str, expires_in: int = 900) -> str:
        from flask import current_app, url_for

        expires = int(time.time()) + int(expires_in)
        query = urlencode({"expires": expires, "signature": _signature(current_app.config["SECRET_KEY"], key, expires)})
        return url_for("storage_public.fetch", key=valid_key(key), _external=True) + "?" + query

    @staticmethod
    def check_signature(secret: str, key: str, expires: str, signature: str) -> bool:
        try:
            expires_at = int(expires)
        except (TypeError, ValueError):
            return False
        if expires_at < time.time():
            return False
        return hmac.compare_digest(_signature(secret, key, expires_at), signature or "")
