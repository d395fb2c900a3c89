"""The S3 backend against a real S3-compatible server (moto's server, run as a separate process)."""

import io
import shutil
import socket
import subprocess
import sys
import time

import httpx
import pytest

from webapp.storage import ObjectMissing
from webapp.storage.base import TooLarge

pytest.importorskip("moto", reason="moto[server] provides the local S3-compatible server")
pytest.importorskip("boto3")


@pytest.fixture(scope="module")
def s3_endpoint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = shutil.which("moto_server") or sys.executable
    args = (
        [server, "-p", str(port)]
        if server != sys.executable
        else [sys.executable, "-m", "moto.server", "-p", str(port)]
    )
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url, timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_s3_save_open_range_size_delete_and_presigned_url(s3_endpoint):
    from webapp.storage.s3 import S3Storage

    store = S3Storage(
        bucket="studio", endpoint_url=s3_endpoint, access_key="test", secret_key="test", region="us-east-1"
    )
    store.client.create_bucket(Bucket="studio")
    payload = bytes(range(256)) * 40000  # ~10 MB: a multipart upload
    assert store.save("studio/1/videos/a.mp4", io.BytesIO(payload), content_type="video/mp4") == len(payload)
    assert store.size("studio/1/videos/a.mp4") == len(payload)
    assert store.read_range("studio/1/videos/a.mp4", 256, 4) == bytes([0, 1, 2, 3])
    with store.open("studio/1/videos/a.mp4") as fh:
        assert fh.read(10) == payload[:10]
    url = store.signed_url("studio/1/videos/a.mp4", expires_in=60)
    fetched = httpx.get(url)
    assert fetched.status_code == 200 and fetched.content == payload
    with pytest.raises(TooLarge):
        store.save("studio/1/videos/big.mp4", io.BytesIO(payload), max_bytes=1_000_000)
    assert not store.exists("studio/1/videos/big.mp4")
    store.delete("studio/1/videos/a.mp4")
    with pytest.raises(ObjectMissing):
        store.size("studio/1/videos/a.mp4")
