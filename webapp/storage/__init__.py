"""Object storage behind one small interface: a local folder by default, any S3-compatible store
(Cloudflare R2, MinIO, AWS S3) by configuration.

    store = storage()                      # the configured backend
    size = store.save("videos/1/a.mp4", stream)   # streamed in chunks, never held in memory
    with store.open(key) as fh: ...
    store.size(key); store.delete(key)
    store.signed_url(key, expires_in=900)  # an expiring URL another party can fetch over HTTP

Configuration: ``STORAGE_BACKEND`` = ``local`` (default, files under ``STORAGE_PATH``) or ``s3``
(``S3_ENDPOINT_URL``, ``S3_BUCKET``, ``S3_ACCESS_KEY_ID``, ``S3_SECRET_ACCESS_KEY``, ``S3_REGION``).
Local signed URLs are served by ``/storage/<key>?expires=…&signature=…`` (HMAC of key and expiry
with the app's secret key), so a platform fetching a video needs no login.
"""

from __future__ import annotations

from webapp.storage.base import CHUNK_SIZE, ObjectMissing, Storage, StorageError, valid_key
from webapp.storage.local import LocalStorage

__all__ = ["CHUNK_SIZE", "LocalStorage", "ObjectMissing", "Storage", "StorageError", "storage", "valid_key"]


def storage() -> Storage:
    """The configured backend (one instance per app)."""
    from flask import current_app

    cached = current_app.extensions.get("tessera.storage")
    if cached is not None:
        return cached
    backend = current_app.config.get("STORAGE_BACKEND", "local")
    if backend == "s3":
        from webapp.storage.s3 import S3Storage

        store: Storage = S3Storage.from_config(current_app.config)
    elif backend == "local":
        store = LocalStorage(current_app.config["STORAGE_PATH"])
    else:
        raise StorageError(f"unknown STORAGE_BACKEND {backend!r}")
    current_app.extensions["tessera.storage"] = store
    return store


def init_app(app) -> None:
    """Mount the signed-URL endpoint of the local backend (idempotent: several domains may call it)."""
    from webapp.storage.routes import public_bp

    if public_bp.name not in app.blueprints:
        app.register_blueprint(public_bp)
