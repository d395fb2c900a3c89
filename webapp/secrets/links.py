"""Signed link tokens: the database keeps a random nonce, the link carries ``<nonce>.<mac>``.

A link that must be shown again (an invoice's payment link, on its page and in every reminder) cannot
be stored as a hash alone; stored in clear, anyone who reads the table could use it. Here the MAC
comes from a key derived from ``ENCRYPTION_KEY`` (older keys in ``ENCRYPTION_OLD_KEYS`` still verify),
so a row read from the database, a backup or the staff console's SQL does not make a working link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

MAC_BYTES = 16


def _keys() -> list[bytes]:
    cache = current_app.extensions.get("tessera.link_keys")
    if cache is None:
        masters = [current_app.config["ENCRYPTION_KEY"], *current_app.config.get("ENCRYPTION_OLD_KEYS", [])]
        cache = current_app.extensions["tessera.link_keys"] = [
            HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tessera.links.v1", info=b"link-mac").derive(m.encode())
            for m in masters
        ]
    return cache


def _mac(key: bytes, purpose: str, nonce: str) -> str:
    digest = hmac.new(key, f"{purpose}\n{nonce}".encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(purpose: str, nonce: str) -> str:
    """The link token for ``nonce`` (the current key)."""
    return f"{nonce}.{_mac(_keys()[0], purpose, nonce)}"


def nonce_of(purpose: str, token: str) -> str | None:
    """The nonce a genuine token carries, or None (no MAC, or a MAC no configured key made)."""
    nonce, dot, mac = (token or "").partition(".")
    if not dot or not nonce or not mac:
        return None
    if any(hmac.compare_digest(_mac(key, purpose, nonce), mac) for key in _keys()):
        return nonce
    return None
