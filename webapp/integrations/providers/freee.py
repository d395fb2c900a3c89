"""freee: the OAuth descriptor and the accounting/invoice API calls Tessera makes.

Real endpoints: accounts.secure.freee.co.jp/public_api/{authorize,token,revoke} (``prompt=select_company``;
the chosen ``company_id`` comes back in the token response), api.freee.co.jp/api/1/… and /iv/….
Access tokens last 6 hours, refresh tokens 90 days and are single-use.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from webapp.integrations import oauth
from webapp.integrations.models import Connection
from webapp.integrations.providers.client import ProviderClient, ProviderError

PARTNER_PAGE = 3000  # freee's maximum for partners
DEAL_PAGE = 100  # freee's maximum for deals
INVOICE_PAGE = 100


class FreeeAccessRestricted(ProviderError):
    """freee's 403 after excessive access: the company is blocked for about 10 minutes."""


def _identify(tokens: oauth.TokenSet, client: ProviderClient) -> oauth.Account:
    company_id = tokens.extra.get("company_id")
    if company_id is None:
        raise ProviderError("freee returned no company_id; choose a company on the consent page", kind="client")
    response = client.request(
        "company_read",
        "GET",
        f"{FREEE.url('api')}/api/1/companies/{int(company_id)}",
        headers={"Authorization": f"Bearer {tokens.access_token}"},
        params={"company_id": int(company_id)},
    )
    company = response.json().get("company") or {}
    name = company.get("display_name") or company.get("name") or f"Company {company_id}"
    return oauth.Account(id=str(int(company_id)), name=name, details={"company_id": int(company_id)})


FREEE = oauth.register(
    oauth.OAuthProvider(
        name="freee",
        label="freee",
        config_prefix="FREEE",
        identify=_identify,
        scopes=("read", "write"),
        pkce=True,
        client_auth="post",
        authorize_params={"prompt": "select_company"},
        refresh_lifetime=timedelta(days=90),
        revoke_token="refresh_token",
        sandbox_paths={
            "authorize": "/public_api/authorize",
            "token": "/public_api/token",
            "revoke": "/public_api/revoke",
            "api": "",
        },
    )
)


class FreeeAPI:
    """The calls a sync makes, each logged with an action name and freee's request id."""

    def __init__(self, connection: Connection, client: ProviderClient | None = None):
        self.connection = connection
        self.company_id = int(connection.account_id)
        self.client = client or ProviderClient("freee", org_id=connection.organization_id)
        base = FREEE.url("api")
        if base is None:  # the sandbox's address when nothing is configured: never, unless the settings say nothing
            raise ProviderError("freee's API address is not configured", kind="client")
        self.base = base

    def close(self) -> None:
        self.client.close()

    def _call(self, action: str, method: str, path: str, **kwargs) -> dict:
        try:
            response = oauth.authorized_request(
                self.connection, self.client, action, method, self.base + path, **kwargs
            )
        except ProviderError as error:
            if error.status_code == 403 and "excessive" in str(error).lower():
                raise FreeeAccessRestricted(
                    "freee restricted access for about 10 minutes after too many requests",
                    kind="rate_limited",
                    status_code=403,
                    payload=error.payload,
                ) from None
            raise
        return response.json() or {}

    def partners(self, offset: int, limit: int = PARTNER_PAGE, since: str | None = None) -> tuple[list, int]:
        params: dict[str, Any] = {"company_id": self.company_id, "offset": offset, "limit": min(limit, PARTNER_PAGE)}
        if since:
            params["start_update_date"] = since
        body = self._call("partners_listed", "GET", "/api/1/partners", params=params)
        return body.get("partners") or [], int((body.get("meta") or {}).get("total_count") or 0)

    def deals(self, offset: int, limit: int = DEAL_PAGE, since: str | None = None) -> tuple[list, int]:
        params: dict[str, Any] = {"company_id": self.company_id, "offset": offset, "limit": min(limit, DEAL_PAGE)}
        if since:
            params["start_issue_date"] = since  # deals have no updated-since filter
        body = self._call("deals_listed", "GET", "/api/1/deals", params=params)
        return body.get("deals") or [], int((body.get("meta") or {}).get("total_count") or 0)

    def invoices(self, start: str, end: str, offset: int, limit: int = INVOICE_PAGE) -> tuple[list, int]:
        params = {
            "company_id": self.company_id,
            "billing_date_start": start,
            "billing_date_end": end,
            "offset": offset,
            "limit": min(limit, INVOICE_PAGE),
        }
        body = self._call("invoices_listed", "GET", "/iv/invoices", params=params)
        return body.get("invoices") or [], int((body.get("meta") or {}).get("total_count") or 0)

    def _create(self, action: str, path: str, payload: dict) -> dict:
        """POST once (never repeated blindly: it is not idempotent), except after a 429, which freee
        answers before doing anything; then wait ``Retry-After`` (up to 30 s) and try again, twice at most."""
        for attempt in range(3):
            try:
                return self._call(action, "POST", path, json={"company_id": self.company_id, **payload}, retry=False)
            except ProviderError as error:
                wait = error.retry_after if error.retry_after is not None else 1.0
                if error.status_code != 429 or attempt == 2 or wait > self.client.max_retry_after:
                    raise
                time.sleep(wait)
        raise AssertionError("unreachable")

    def create_partner(self, name: str, code: str, email: str | None, country: str | None = None) -> dict:
        payload = {"name": name, "code": code, "email": email, "address_attributes": {"country_code": country}}
        return self._create("partner_created", "/api/1/partners", payload).get("partner") or {}

    def find_partner_by_code(self, code: str) -> dict | None:
        """For idempotent export after a lost answer: freee refuses a duplicate code."""
        offset = 0
        while True:
            partners, total = self.partners(offset)
            for partner in partners:
                if partner.get("code") == code:
                    return partner
            offset += len(partners)
            if not partners or offset >= total:
                return None

    def create_invoice(self, payload: dict) -> dict:
        return self._create("invoice_synced", "/iv/invoices", payload).get("invoice") or {}

    def create_deal(self, payload: dict) -> dict:
        return self._create("deal_created", "/api/1/deals", payload).get("deal") or {}
