"""Tenancy sweep: one billing object per <..._id> URL variable of the /o/<slug>/ routes."""

from tests.billing.helpers import make_invoice


def _invoice(org, user) -> int:
    return make_invoice(org).id


SAMPLES = {"invoice_id": _invoice}
