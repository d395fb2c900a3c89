"""The storage interface every backend implements."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, Protocol


class ByteSource(Protocol):
    """What ``save`` reads from: an upload, or a wrapper counting or hashing it as it goes."""

    def read(self, size: int = -1, /) -> bytes: ...


class ByteStream(Protocol):
    """What ``open`` gives: read it, close it (or use it in ``with``)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: Any) -> Any: ...


CHUNK_SIZE = 1024 * 1024
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,511}$")


class StorageError(RuntimeError):
    """The store refused or failed an operation."""


class ObjectMissing(StorageError):
    """No object under that key."""


class TooLarge(StorageError):
    """The stream passed the size limit given to ``save``; nothing was kept."""


def valid_key(key: str) -> str:
    """Keys are relative, plain paths: no ``..``, no leading slash, no odd characters."""
    if not _KEY.match(key or "") or ".." in key.split("/") or "//" in key:
        raise StorageError(f"invalid storage key {key!r}")
    return key


class Storage(ABC):
    @abstractmethod
    def save(self, key: str, stream: ByteSource, *, max_bytes: int | None = None, content_type: str = "") -> int:
        """Write the stream under ``key`` chunk by chunk; return its size. Over ``max_bytes``: TooLarge."""

    @abstractmethod
    def open(self, key: str) -> ByteStream:
        """A readable binary file object (close it)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""

    @abstractmethod
    def size(self, key: str) -> int:
        """Bytes stored under ``key`` (ObjectMissing when absent)."""

    @abstractmethod
    def signed_url(self, key: str, expires_in: int = 900) -> str:
        """An absolute URL that lets anyone holding it GET the object until it expires."""

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ObjectMissing:
            return False
        return True

    def read_range(self, key: str, start: int, length: int) -> bytes:
        with self.open(key) as fh:
            fh.seek(start)
            return fh.read(length)
