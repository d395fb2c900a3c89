"""Connect through the routes like a browser: our connect button → the sandbox consent page (the
sandbox process, over real HTTP) → our callback, whose token exchange goes over HTTP to the sandbox."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from tests.factories import add_member, make_org, make_user
from webapp.extensions import db
from webapp.integrations.models import Connection


def owner_and_org(client, email="owner@example.com"):
    owner = make_user(email)
    org = make_org(owner)
    client.login(email)
    return owner, org


def start(client, org, provider) -> str:
    response = client.post(f"/o/{org.slug}/integrations/{provider}/connect")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def consent(client, authorize_url: str, *, allow=True, choice=None) -> str:
    """Show the sandbox consent page, answer it, return the callback URL the provider redirects to."""
    page = httpx.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    data = {"decision": "allow" if allow else "deny"}
    if "sandbox/freee" in authorize_url:
        data["company_id"] = choice or "1001"
    else:
        data["account"] = choice or "ana@drive.example"
    answer = httpx.post(authorize_url, data=data, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["Location"]


def query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def connect(client, org, provider, **kw) -> Connection:
    callback = consent(client, start(client, org, provider), **kw)
    response = client.get(callback)
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    db.session.expire_all()
    return db.session.scalars(
        select(Connection).where(Connection.organization_id == org.id, Connection.provider == provider)
    ).one()


def sandbox(sandbox_url, provider, path, method="POST", **kw):
    response = httpx.request(method, f"{sandbox_url}/sandbox/{provider}{path}", timeout=10, **kw)
    assert response.status_code < 300, response.text
    return response.json()


def fault(sandbox_url, provider, path, status, times=1, retry_after=None):
    sandbox(
        sandbox_url,
        provider,
        "/_control/faults",
        json={"path": path, "status": status, "times": times, "retry_after": retry_after},
    )


__all__ = ["add_member", "connect", "consent", "fault", "owner_and_org", "query", "sandbox", "start"]
