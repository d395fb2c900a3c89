"""Customer payment pages: saved cards (OWNER and BILLING manage them), paying an invoice by card
(Stripe checkout) or with a saved card, and credit-note PDFs."""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_login import current_user

from webapp.billing import bp
from webapp.billing.credit_note_pdf import credit_note_pdf
from webapp.billing.models import DRAFT, Invoice
from webapp.billing.payment_forms import ButtonForm
from webapp.billing.payment_models import CreditNote, PaymentMethod
from webapp.billing.providers import provider_for
from webapp.billing.providers.stripe import is_session_id
from webapp.billing.public import status_url
from webapp.billing.services import billing_account_for
from webapp.billing.services.checkout import start_checkout
from webapp.billing.services.payment_methods import (
    payment_methods_of,
    remove_method,
    save_card,
    set_default_method,
)
from webapp.core.access import org_object_or_404, org_view
from webapp.core.errors import DomainError
from webapp.core.htmx import redirect, render
from webapp.core.transaction import perform


def _methods_url(org) -> str:
    return url_for("billing.payment_methods", slug=org.slug)


@bp.get("/o/<slug>/billing/payment-methods")
@org_view("payment_methods")
def payment_methods(org):
    account = billing_account_for(org)
    return render(
        "billing/payment_methods.html",
        block="payment_method_list",
        org=org,
        methods=payment_methods_of(account),
        button=ButtonForm(),
    )


@bp.post("/o/<slug>/billing/payment-methods/new")
@org_view("payment_methods")
def add_payment_method(org):
    """To Stripe's hosted page (a SetupIntent); we never see the card number."""
    account = billing_account_for(org)
    back = url_for("billing.payment_method_added", slug=org.slug, _external=True)
    return perform(
        lambda: provider_for("stripe").start_setup(
            account, return_url=back + "?session_id={CHECKOUT_SESSION_ID}", cancel_url=_methods_url(org)
        ),
        then=redirect,
        failed=_methods_url(org),
    )


@bp.get("/o/<slug>/billing/payment-methods/added")
@org_view("payment_methods")
def payment_method_added(org):
    session_id = request.args.get("session_id", "")
    if not is_session_id(session_id):
        abort(404)
    return render("billing/payment_method_added.html", org=org, session_id=session_id, button=ButtonForm())


@bp.post("/o/<slug>/billing/payment-methods/added")
@org_view("payment_methods")
def confirm_payment_method(org):
    """Back from Stripe: ask Stripe what was saved (the webhook records it too; whichever is first)."""
    account = billing_account_for(org)
    session_id = request.form.get("session_id", "")

    def save():
        details = provider_for("stripe").setup_result(account, session_id)
        if details is None:
            raise DomainError("Stripe has not confirmed the card yet; try again in a moment.")
        return save_card(account, details, current_user.user)

    again = url_for("billing.payment_method_added", slug=org.slug, session_id=session_id)
    return perform(save, then=_methods_url(org), success=lambda m: f"{m.label} is saved.", failed=again)


@bp.post("/o/<slug>/billing/payment-methods/<int:payment_method_id>/default")
@org_view("payment_methods")
def default_payment_method(org, payment_method_id):
    method = org_object_or_404(PaymentMethod, org, payment_method_id)
    return perform(
        lambda: set_default_method(billing_account_for(org), method, current_user.user),
        then=_methods_url(org),
        success=f"{method.label} is now charged for new invoices.",
    )


@bp.post("/o/<slug>/billing/payment-methods/<int:payment_method_id>/remove")
@org_view("payment_methods")
def remove_payment_method(org, payment_method_id):
    method = org_object_or_404(PaymentMethod, org, payment_method_id)
    return perform(
        lambda: remove_method(billing_account_for(org), method, current_user.user),
        then=_methods_url(org),
        success=f"{method.label} was removed.",
    )


def _open_invoice(org, invoice_id) -> Invoice:
    invoice = org_object_or_404(Invoice, org, invoice_id)
    if invoice.status == DRAFT:
        abort(404)
    return invoice


@bp.post("/o/<slug>/billing/invoices/<int:invoice_id>/pay-card")
@org_view("billing")
def pay_invoice_by_card(org, invoice_id):
    invoice = _open_invoice(org, invoice_id)
    detail = url_for("billing.invoice_detail", slug=org.slug, invoice_id=invoice.id, _external=True)
    return perform(
        lambda: start_checkout(
            invoice, "stripe", "STRIPE_CARD", urls=lambda payment: (status_url(invoice, payment), detail)
        ),
        then=lambda checkout: redirect(checkout.redirect_url or detail),
        failed=detail,
    )


@bp.post("/o/<slug>/billing/invoices/<int:invoice_id>/pay-saved/<int:payment_method_id>")
@org_view("payment_methods")
def pay_invoice_with_saved_card(org, invoice_id, payment_method_id):
    invoice = _open_invoice(org, invoice_id)
    method = org_object_or_404(PaymentMethod, org, payment_method_id)
    detail = url_for("billing.invoice_detail", slug=org.slug, invoice_id=invoice.id)

    def charged(checkout):
        if checkout.redirect_url:  # the bank asks the payer to authenticate
            return redirect(checkout.redirect_url)
        payment = checkout.payment
        if payment.status == "PAID":
            flash(f"{method.label} was charged {payment.amount / 100:.2f} {payment.currency}.", "success")
        else:
            flash(f"{method.label} was not charged: {payment.error_message or 'the bank refused'}.", "error")
        return redirect(detail)

    return perform(
        lambda: provider_for("stripe").charge(
            invoice, method, off_session=False, return_url_for=lambda payment: status_url(invoice, payment)
        ),
        then=charged,
        failed=detail,
    )


@bp.get("/o/<slug>/billing/credit-notes/<int:credit_note_id>.pdf")
@org_view("billing")
def credit_note_pdf_view(org, credit_note_id):
    note = org_object_or_404(CreditNote, org, credit_note_id)
    return Response(
        credit_note_pdf(note),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{note.number}.pdf"'},
    )
