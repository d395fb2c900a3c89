"""What the three social-platform sandboxes share: signed stateless tokens (they survive a restart,
so demo connections keep working), an in-process state store, switchable faults, and metrics that
grow with a post's age.

State lives in the memory of the sandbox process (``webapp.integrations.sandboxes``, one worker),
never in the product's; ``POST /sandbox/<p>/_control`` switches faults on and reports the state, and
``POST /_sandbox/reset`` forgets it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field

from flask import current_app, jsonify, request


def _secret(provider: str) -> bytes:
    return hashlib.sha256(f"sandbox:{provider}:{current_app.config['SECRET_KEY']}".encode()).digest()


def sign(provider: str, payload: dict) -> str:
    body = base64.urlsafe_b64encode(json.dumps({**payload, "n": secrets.token_hex(4)}).encode()).decode().rstrip("=")
    mac = hmac.new(_secret(provider), body.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{body}.{mac}"


def verify(provider: str, token: str | None, kind: str) -> dict | None:
    """The payload of a token this sandbox issued, if it is of ``kind``, unexpired and not revoked."""
    if not token or "." not in token:
        return None
    body, mac = token.rsplit(".", 1)
    expected = hmac.new(_secret(provider), body.encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    if payload.get("kind") != kind or payload.get("exp", 0) < time.time():
        return None
    if token_digest(token) in state(provider).revoked:
        return None
    return payload


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:]
    return request.args.get("access_token") or request.form.get("access_token")


def account_id(provider: str, username: str) -> str:
    return hashlib.sha256(f"{provider}:{username}".encode()).hexdigest()[:16]


@dataclass
class SandboxState:
    lock: threading.RLock = field(default_factory=threading.RLock)
    revoked: set = field(default_factory=set)  # digests of used or revoked tokens
    faults: dict = field(default_factory=dict)  # step -> list of modes, consumed one per request
    uploads: dict = field(default_factory=dict)
    posts: dict = field(default_factory=dict)
    counters: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)  # (step, account) log, for tests and the benchmark


_STATES: dict[str, SandboxState] = {}
_GLOBAL = threading.Lock()


def state(provider: str) -> SandboxState:
    with _GLOBAL:
        return _STATES.setdefault(provider, SandboxState())


def reset(provider: str | None = None) -> None:
    with _GLOBAL:
        for name in [provider] if provider else list(_STATES):
            _STATES.pop(name, None)


def take_fault(provider: str, step: str) -> str | None:
    """The next fault switched on for ``step`` (``rate_limit``, ``server``, ``unknown``, ``timeout``,
    ``quota``, ``invalid_grant``, ``interrupt``, ``error``), consumed once."""
    st = state(provider)
    with st.lock:
        modes = st.faults.get(step) or []
        if not modes:
            return None
        mode = modes.pop(0)
        return mode


def control_view(provider: str):
    """``POST /sandbox/<p>/_control`` with JSON ``{"faults": {"<step>": ["rate_limit", …]}, "reset": true}``;
    answers the faults still pending, the counters and how many posts were published."""
    data = request.get_json(silent=True) or {}
    st = state(provider)
    if data.get("reset"):
        reset(provider)
        st = state(provider)
    with st.lock:
        for step, modes in (data.get("faults") or {}).items():
            st.faults.setdefault(step, []).extend(modes if isinstance(modes, list) else [modes])
        if "set" in data:
            st.counters.update(data["set"])
        body = {"ok": True, "faults": st.faults, "counters": st.counters, "published": len(st.posts)}
        if data.get("posts"):  # what the platform received, as it recorded it (for the tests)
            body["posts"] = st.posts
        return jsonify(body)


def log_call(provider: str, step: str, account: str = "") -> None:
    st = state(provider)
    with st.lock:
        st.calls.append((step, account, time.time()))


def published_count(provider: str) -> int:
    st = state(provider)
    with st.lock:
        return len(st.posts)


def new_post_id(prefix: str) -> str:
    # The creation time is inside the id, so metrics still grow after a sandbox restart.
    return f"{prefix}{int(time.time())}{secrets.randbelow(10**6):06d}"


def metrics_for(post_id: str) -> dict:
    """Views, likes, comments, shares that grow with the post's age, stable for a given id and moment."""
    digits = "".join(ch for ch in post_id if ch.isdigit())
    created = int(digits[:10]) if len(digits) >= 10 else int(time.time())
    seed = int(hashlib.sha256(post_id.encode()).hexdigest()[:6], 16)
    hours = max(0.0, (time.time() - created) / 3600)
    views = int((120 + seed % 400) * (1 + hours) ** 0.8)
    return {
        "views": views,
        "likes": views * (5 + seed % 7) // 100,
        "comments": views * (1 + seed % 3) // 200,
        "shares": views * (1 + seed % 4) // 300,
    }


def consent_page(provider: str, title: str, *, hidden: dict, action: str):
    """A minimal consent screen: pick the account name, allow or deny."""
    from markupsafe import escape

    fields = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in hidden.items())
    return (
        f"<!doctype html><title>{escape(title)} sandbox</title><h1>{escape(title)} sandbox</h1>"
        f'<form method="post" action="{escape(action)}">{fields}'
        '<label>Account <input name="username" value="sandbox_creator"></label>'
        '<button name="decision" value="allow">Allow</button>'
        '<button name="decision" value="deny">Deny</button></form>'
    )
