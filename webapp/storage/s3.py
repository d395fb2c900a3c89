"""Any S3-compatible store (AWS S3, Cloudflare R2, MinIO) through boto3.

Uploads are streamed with multipart uploads (boto3's ``upload_fileobj``), never read whole into
memory; signed URLs are presigned GETs.
"""

from __future__ import annotations

from webapp.storage.base import (
    CHUNK_SIZE,
    ByteSource,
    ByteStream,
    ObjectMissing,
    Storage,
    StorageError,
    TooLarge,
    valid_key,
)


class _Limited:
    """A read-through wrapper that refuses to pass ``max_bytes``."""

    def __init__(self, stream: ByteSource, max_bytes: int | None):
        self.stream, self.max_bytes, self.count = stream, max_bytes, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size if size and size > 0 else CHUNK_SIZE)
        self.count += len(data)
        if self.max_bytes is not None and self.count > self.max_bytes:
            raise TooLarge(f"larger than {self.max_bytes} bytes")
        return data


class S3Storage(Storage):
    def __init__(
        self, *, bucket: str, endpoint_url: str | None, access_key: str, secret_key: str, region: str = "auto"
    ):
        import boto3
        from botocore.config import Config

        if not bucket:
            raise StorageError("S3_BUCKET is not set")
        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            region_name=None if region in ("", "auto") and not endpoint_url else region,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"}),
        )

    @classmethod
    def from_config(cls, config) -> S3Storage:
        return cls(
            bucket=config.get("S3_BUCKET", ""),
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            access_key=config.get("S3_ACCESS_KEY_ID", ""),
            secret_key=config.get("S3_SECRET_ACCESS_KEY", ""),
            region=config.get("S3_REGION", "auto"),
        )

    def _missing(self, error) -> bool:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        return code in ("404", "NoSuchKey", "NotFound")

    def save(self, key: str, stream: ByteSource, *, max_bytes: int | None = None, content_type: str = "") -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        limited = _Limited(stream, max_bytes)
        extra = {"ContentType": content_type} if content_type else {}
        try:
            self.client.upload_fileobj(limited, self.bucket, valid_key(key), ExtraArgs=extra)
        except TooLarge:
            self.delete(key)
            raise
        except (BotoCoreError, ClientError) as error:
            if isinstance(getattr(error, "__context__", None), TooLarge):
                self.delete(key)
                raise TooLarge(f"larger than {max_bytes} bytes") from None
            raise StorageError(f"S3 upload failed: {error}") from None
        return limited.count

    def open(self, key: str) -> ByteStream:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=valid_key(key))["Body"]
        except ClientError as error:
            if self._missing(error):
                raise ObjectMissing(key) from None
            raise StorageError(f"S3 read failed: {error}") from None
        return _Body(body)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(
                Bucket=self.bucket, Key=valid_key(key), Range=f"bytes={start}-{start + length - 1}"
            )
        except ClientError as error:
            if self._missing(error):
                raise ObjectMissing(key) from None
            raise StorageError(f"S3 read failed: {error}") from None
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=valid_key(key))

    def size(self, key: str) -> int:
        from botocore.exceptions import ClientError

        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=valid_key(key))["ContentLength"])
        except ClientError as error:
            if self._missing(error):
                raise ObjectMissing(key) from None
            raise StorageError(f"S3 head failed: {error}") from None

    def signed_url(self, key: str, expires_in: int = 900) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": valid_key(key)}, ExpiresIn=int(expires_in)
        )


class _Body:
    """boto3's streaming body as a context-managed file object (``seek`` is not supported)."""

    def __init__(self, body):
        self.body = body

    def read(self, size: int = -1) -> bytes:
        return self.body.read(None if size is None or size < 0 else size)

    def close(self) -> None:
        self.body.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
