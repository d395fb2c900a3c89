"""Public pages: /pay/<token> (no login) and the Paynow result-URL webhook (CSRF-exempt)."""

from __future__ import annotations

from flask import abort, current_app, flash, request, url_for

from webapp.billing import public_bp
from webapp.billing.forms import ExpressPayForm, WebPayForm
from webapp.billing.models import PAID, PAY_PENDING, VOID, Payment
from webapp.billing.paynow import handle_paynow_callback, provider_for, refresh_payment
from webapp.billing.services import invoice_by_token
from webapp.core.errors import DomainError
from webapp.core.forms import apply_error
from webapp.core.htmx import redirect, render
from webapp.extensions import db
from webapp.integrations.providers.client import ProviderError
from webapp.integrations.providers.paynow import PaynowError


def _payable(token: str):
    """The invoice behind a link, or the clear refusal page (expired, void, paid, unknown)."""
    invoice = invoice_by_token(token)
    if invoice is None:
        return None, render("billing/pay_refused.html", reason="unknown", invoice=None, status=404)
    if invoice.status == VOID:
        return None, render("billing/pay_refused.html", reason="void", invoice=invoice, status=410)
    if invoice.status in (PAID, "REFUNDED") or invoice.amount_due <= 0:
        return None, render("billing/pay_refused.html", reason="paid", invoice=invoice, status=410)
    if invoice.link_expired:
        return None, render("billing/pay_refused.html", reason="expired", invoice=invoice, status=410)
    return invoice, None


def _page(invoice, web_form=None, express_form=None, status=200):
    return render(
        "billing/pay.html",
        invoice=invoice,
        web_form=web_form or WebPayForm(),
        express_form=express_form or ExpressPayForm(),
        sandbox="/sandbox/paynow" in current_app.config["PAYNOW_BASE_URL"],
        status=status,
    )


@public_bp.get("/pay/<token>")
def pay(token):
    invoice, refusal = _payable(token)
    return refusal or _page(invoice)


@public_bp.post("/pay/<token>/web")
def pay_web(token):
    invoice, refusal = _payable(token)
    if refusal:
        return refusal
    form = WebPayForm()
    if not form.validate_on_submit():
        return _page(invoice, web_form=form, status=422)
    return _start(invoice, form.method.data, None, form, "web_form")


@public_bp.post("/pay/<token>/express")
def pay_express(token):
    invoice, refusal = _payable(token)
    if refusal:
        return refusal
    form = ExpressPayForm()
    if not form.validate_on_submit():
        return _page(invoice, express_form=form, status=422)
    return _start(invoice, form.method.data, form.phone.data, form, "express_form")


def _start(invoice, method, phone, form, form_name):
    provider = provider_for("paynow")
    try:
        payment = provider.begin(invoice, method, phone)
    except DomainError as error:
        db.session.rollback()
        apply_error(form, error)
        return _page(invoice, **{form_name: form}, status=422)
    db.session.commit()  # the callback may arrive before Paynow's reply does
    try:
        checkout = provider.send(payment)
    except DomainError as error:
        db.session.commit()  # keep the FAILED payment and its reason
        apply_error(form, error)
        return _page(invoice, **{form_name: form}, status=502)
    db.session.commit()
    if checkout.redirect_url:
        return redirect(checkout.redirect_url)
    return redirect(url_for("billing_public.payment_status", token=invoice.payment_token, payment_id=payment.id))


@public_bp.get("/pay/<token>/payments/<int:payment_id>")
def payment_status(token, payment_id):
    invoice = invoice_by_token(token)
    if invoice is None:
        abort(404)
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.invoice_id != invoice.id:
        abort(404)
    if payment.status == PAY_PENDING:
        try:
            refresh_payment(payment)
            db.session.commit()
        except (PaynowError, ProviderError):
            db.session.rollback()
            flash("Paynow did not answer; we will keep checking.", "warning")
    db.session.refresh(invoice)
    return render("billing/pay_status.html", block="pay_status", invoice=invoice, payment=payment)


@public_bp.post("/webhooks/paynow")
def paynow_webhook():
    fields = list(request.form.items(multi=True))
    status, message = handle_paynow_callback(fields)
    if status == 200:
        db.session.commit()
    else:
        db.session.rollback()
    return message, status, {"Content-Type": "text/plain"}
