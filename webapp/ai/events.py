"""Credits bought through billing arrive when the invoice is paid."""

from __future__ import annotations

from webapp.core.events import Event, subscribe


@subscribe("invoice.paid")
def grant_purchased_credits(event: Event) -> None:
    from webapp.ai.credits import grant_paid_purchase

    invoice_id = event.data.get("invoice_id")
    if invoice_id is not None:
        grant_paid_purchase(int(invoice_id), actor=None)
