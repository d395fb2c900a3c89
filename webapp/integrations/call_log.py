"""The one outbound-call log (DESIGN §1): a row per call Tessera makes to an outside system.

The provider client (HTTP providers), workflow HTTP steps and SMTP delivery all write here, so the
console's call log (``/admin/calls``) and its 90-day pruning see every one. A row never holds a
request or message body, a token or a password: where, what, the outcome and how long it took.
"""

from __future__ import annotations

from webapp.extensions import db
from webapp.integrations.models import OutboundCall


def record_call(
    *,
    provider: str,
    action: str,
    method: str,
    endpoint: str,
    success: bool,
    duration_ms: int,
    organization_id: int | None = None,
    status_code: int | None = None,
    error: str | None = None,
    provider_request_id: str | None = None,
    attempt: int = 1,
    details: dict | None = None,
) -> None:
    """Write one call row on its own connection and transaction: the log survives whatever the
    caller rolls back (a failed call is exactly what must stay visible)."""
    row = dict(
        organization_id=organization_id,
        provider=provider,
        action=action,
        method=method.upper(),
        endpoint=endpoint[:500],
        status_code=status_code,
        success=success,
        error=error[:1000] if error else None,
        provider_request_id=provider_request_id,
        duration_ms=duration_ms,
        attempt=attempt,
        details=details or {},
    )
    with db.engine.begin() as conn:
        conn.execute(OutboundCall.__table__.insert().values(**row))
