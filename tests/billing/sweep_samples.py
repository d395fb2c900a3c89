"""Tenancy sweep: one billing object per <..._id> URL variable of the /o/<slug>/ routes."""

from tests.billing.helpers import make_invoice


def _invoice(org, user) -> int:
    return make_invoice(org).id


def _payment_method(org, user) -> int:
    from webapp.billing.payment_models import PaymentMethod
    from webapp.billing.services import billing_account_for
    from webapp.extensions import db

    account = billing_account_for(org)
    method = PaymentMethod(
        organization_id=org.id,
        account_id=account.id,
        stripe_payment_method_id=f"pm_sweep{org.id}",
        card_brand="visa",
        card_last4="4242",
        card_exp_month=12,
        card_exp_year=2040,
        is_default=True,
    )
    db.session.add(method)
    db.session.commit()
    return method.id


def _credit_note(org, user) -> int:
    from webapp.billing import services as billing
    from webapp.extensions import db

    invoice = make_invoice(org)
    billing.record_manual_payment(invoice, None, invoice.amount_due, "CASH", "R-1")
    note = billing.issue_credit_note(invoice, None, "sweep")
    db.session.commit()
    return note.id


SAMPLES = {"invoice_id": _invoice, "payment_method_id": _payment_method, "credit_note_id": _credit_note}
