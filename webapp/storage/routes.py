"""``/storage/<key>``: the local backend's signed, expiring download link (no login)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request, send_file

from webapp.storage.base import StorageError

public_bp = Blueprint("storage_public", __name__)


@public_bp.get("/storage/<path:key>")
def fetch(key: str):
    from webapp.storage import storage
    from webapp.storage.local import LocalStorage

    store = storage()
    if not isinstance(store, LocalStorage):
        abort(404)
    args = request.args
    if not LocalStorage.check_signature(
        current_app.config["SECRET_KEY"], key, args.get("expires", ""), args.get("signature", "")
    ):
        abort(403)
    try:
        path = store.local_path(key)
    except StorageError:
        abort(404)
    if not path.is_file():
        abort(404)
    return send_file(path, conditional=True, max_age=0)
