"""The storage interface's local backend: streamed save with a size limit, open, size, delete, and
signed expiring URLs served without login."""

import io

import pytest

from webapp.storage import LocalStorage, ObjectMissing, StorageError, storage
from webapp.storage.base import TooLarge


def test_save_open_size_delete(tmp_path):
    store = LocalStorage(tmp_path)
    assert store.save("a/b/clip.mp4", io.BytesIO(b"x" * 3_000_000)) == 3_000_000
    assert store.size("a/b/clip.mp4") == 3_000_000
    assert store.read_range("a/b/clip.mp4", 10, 5) == b"xxxxx"
    with store.open("a/b/clip.mp4") as fh:
        assert len(fh.read()) == 3_000_000
    store.delete("a/b/clip.mp4")
    store.delete("a/b/clip.mp4")  # deleting twice is fine
    with pytest.raises(ObjectMissing):
        store.size("a/b/clip.mp4")


def test_size_limit_keeps_nothing_and_keys_are_checked(tmp_path):
    store = LocalStorage(tmp_path)
    with pytest.raises(TooLarge):
        store.save("big.mp4", io.BytesIO(b"x" * 2_000_000), max_bytes=1_000_000)
    assert not store.exists("big.mp4")
    assert list(tmp_path.iterdir()) == []  # no half-written temporary file either
    for bad in ("../etc/passwd", "/abs", "a//b", ""):
        with pytest.raises(StorageError):
            store.save(bad, io.BytesIO(b"x"))


def test_signed_url_works_until_it_expires_and_refuses_tampering(ctx, client):
    store = storage()
    store.save("studio/test/signed.mp4", io.BytesIO(b"video-bytes"))
    url = store.signed_url("studio/test/signed.mp4", expires_in=60)
    path = url.split("://", 1)[1].split("/", 1)[1]
    ok = client.get("/" + path)
    assert ok.status_code == 200 and ok.data == b"video-bytes"
    ok.close()
    assert client.get("/" + path.replace("signed.mp4", "other.mp4")).status_code == 403
    assert client.get("/" + path[:-4] + "0000").status_code == 403
    expired = store.signed_url("studio/test/signed.mp4", expires_in=-1)
    assert client.get("/" + expired.split("/", 3)[3]).status_code == 403
