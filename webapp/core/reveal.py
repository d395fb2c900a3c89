"""Show a secret once after a redirect (post-redirect-get for "copy it now" pages).

The POST that makes a secret (an API key, recovery codes) stashes it sealed with AES-GCM under the
app's encryption key, bound to this browser session and to what it is for, and answers 303; the GET
that follows takes it out of the session and shows it. A reload finds nothing to show and makes
nothing: the secret is on screen once, and the session cookie never carries it readable. A stash not
taken within ``REVEAL_SECONDS`` is refused.
"""

from __future__ import annotations

import base64
import json
import time

from cryptography.exceptions import InvalidTag
from flask import current_app, session

from webapp.secrets.crypto import NONCE_BYTES, derive_key, new_nonce, seal, unseal

REVEAL_SECONDS = 300
_SESSION_KEY = "reveal"


def _key() -> bytes:
    return derive_key("reveal:" + current_app.config["ENCRYPTION_KEY"])


def _aad(kind: str) -> bytes:
    from flask_login import current_user

    who = current_user.get_id() if current_user.is_authenticated else ""
    return f"tessera.reveal:{kind}:{who}".encode()


def stash(kind: str, payload: dict) -> None:
    """Keep ``payload`` for the next page that calls ``take(kind)``; an earlier stash of the kind goes."""
    nonce = new_nonce()
    body = json.dumps({"p": payload, "until": time.time() + REVEAL_SECONDS}).encode()
    ciphertext, tag = seal(_key(), nonce, body, _aad(kind))
    sealed = dict(session.get(_SESSION_KEY) or {})
    sealed[kind] = base64.urlsafe_b64encode(nonce + ciphertext + tag).decode()
    session[_SESSION_KEY] = sealed


def take(kind: str) -> dict | None:
    """The stashed payload, once; None when there is none, it expired or it cannot be read."""
    sealed = dict(session.get(_SESSION_KEY) or {})
    token = sealed.pop(kind, None)
    if token is None:
        return None
    session[_SESSION_KEY] = sealed
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        body = unseal(_key(), raw[:NONCE_BYTES], raw[NONCE_BYTES:-16], raw[-16:], _aad(kind))
        data = json.loads(body)
    except (InvalidTag, ValueError, TypeError):
        return None
    if data.get("until", 0) < time.time():
        return None
    return data.get("p")
