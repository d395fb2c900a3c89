"""AES-256-GCM with a fresh 96-bit nonce per encryption, IV and tag kept apart from the ciphertext."""

from __future__ import annotations

import hashlib
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
TAG_BYTES = 16


def derive_key(master: str) -> bytes:
    """A 256-bit key from the configured master secret (at least 32 characters)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tessera.secrets.v1", info=b"aes-256-gcm").derive(
        master.encode()
    )


def key_id(key: bytes) -> str:
    """Names a key without revealing it, so rows say which key sealed them."""
    return hashlib.sha256(b"tessera.key-id" + key).hexdigest()[:12]


def seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """Returns (ciphertext, tag)."""
    sealed = AESGCM(key).encrypt(nonce, plaintext, aad)
    return sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]


def unseal(key: bytes, nonce: bytes, ciphertext: bytes, tag: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(nonce, ciphertext + tag, aad)


def new_nonce() -> bytes:
    return os.urandom(NONCE_BYTES)
