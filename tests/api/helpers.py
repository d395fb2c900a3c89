"""Shared helpers for API tests: an organization with an owner and a key made through the services."""

from __future__ import annotations

from tests.factories import make_org, make_user
from webapp.api import services as keys
from webapp.extensions import db


def org_with_key(
    scopes=("usage:write", "usage:read", "services:read", "invoices:read"), rate_limit=1000, expires_at=None, email=None
):
    owner = make_user(email)
    org = make_org(owner)
    key, plain = keys.create_key(org, owner, "test key", list(scopes), rate_limit, expires_at)
    db.session.commit()
    return owner, org, key, plain


def bearer(plain: str) -> dict:
    return {"Authorization": f"Bearer {plain}"}
