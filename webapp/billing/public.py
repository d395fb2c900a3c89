"""Public pages: /pay/<token> (no login) and the providers' webhooks (CSRF-exempt). Webhooks only
verify, record and answer; a job does the work."""

from __future__ import annotations

from flask import abort, current_app, request, url_for

from webapp.billing import public_bp
from webapp.billing.forms import ExpressPayForm, WebPayForm
from webapp.billing.models import PAID, REFUNDED, VOID, Payment
from webapp.billing.payment_forms import CardPayForm
from webapp.billing.providers.paynow import record_paynow_callback
from webapp.billing.services import invoice_by_token
from webapp.billing.services.checkout import check_payment, start_checkout
from webapp.billing.services.webhooks import receive_stripe_webhook
from webapp.core.htmx import is_htmx, redirect, render
from webapp.core.transaction import perform
from webapp.extensions import db


def _payable(token: str):
    """The invoice behind a link, or the clear refusal page (expired, void, paid, unknown)."""
    invoice = invoice_by_token(token)
    if invoice is None:
        return None, render("billing/pay_refused.html", reason="unknown", invoice=None, status=404)
    if invoice.status == VOID:
        return None, render("billing/pay_refused.html", reason="void", invoice=invoice, status=410)
    if invoice.status in (PAID, REFUNDED) or invoice.amount_due <= 0:
        return None, render("billing/pay_refused.html", reason="paid", invoice=invoice, status=410)
    if invoice.link_expired:
        return None, render("billing/pay_refused.html", reason="expired", invoice=invoice, status=410)
    return invoice, None


def _page(invoice, web_form=None, express_form=None, card_form=None, status=200):
    return render(
        "billing/pay.html",
        invoice=invoice,
        web_form=web_form or WebPayForm(),
        express_form=express_form or ExpressPayForm(),
        card_form=card_form or CardPayForm(),
        stripe_enabled=bool(current_app.config.get("STRIPE_SECRET_KEY")),
        sandbox="/sandbox/paynow" in current_app.config["PAYNOW_BASE_URL"],
        stripe_sandbox="/sandbox/stripe" in current_app.config["STRIPE_API_BASE"],
        status=status,
    )


@public_bp.get("/pay/<token>")
def pay(token):
    invoice, refusal = _payable(token)
    return refusal or _page(invoice)


def status_url(invoice, payment) -> str:
    return url_for("billing_public.payment_status", token=invoice.payment_token, payment_id=payment.id, _external=True)


def _pay(token, form_class, form_name, provider, method_of, phone_of=lambda form: None):
    invoice, refusal = _payable(token)
    if refusal:
        return refusal
    form = form_class()
    if not form.validate_on_submit():
        return _page(invoice, **{form_name: form}, status=422)
    cancel = url_for("billing_public.pay", token=token, _external=True)
    return perform(
        lambda: start_checkout(
            invoice,
            provider,
            method_of(form),
            phone=phone_of(form),
            urls=lambda payment: (status_url(invoice, payment), cancel),
        ),
        then=lambda checkout: redirect(checkout.redirect_url or status_url(invoice, checkout.payment)),
        form=form,
        failed=lambda error: _page(invoice, **{form_name: form}, status=error.status if error.status >= 500 else 422),
    )


@public_bp.post("/pay/<token>/web")
def pay_web(token):
    return _pay(token, WebPayForm, "web_form", "paynow", lambda form: form.method.data)


@public_bp.post("/pay/<token>/express")
def pay_express(token):
    return _pay(token, ExpressPayForm, "express_form", "paynow", lambda form: form.method.data, lambda f: f.phone.data)


@public_bp.post("/pay/<token>/card")
def pay_card(token):
    return _pay(token, CardPayForm, "card_form", "stripe", lambda form: "STRIPE_CARD")


def _payment_of(token, payment_id):
    invoice = invoice_by_token(token)
    if invoice is None:
        abort(404)
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.invoice_id != invoice.id:
        abort(404)
    return invoice, payment


def _status(invoice, payment, warning=None):
    return render("billing/pay_status.html", block="pay_status", invoice=invoice, payment=payment, warning=warning)


@public_bp.get("/pay/<token>/payments/<int:payment_id>")
def payment_status(token, payment_id):
    invoice, payment = _payment_of(token, payment_id)
    return _status(invoice, payment)


@public_bp.post("/pay/<token>/payments/<int:payment_id>/check")
def check_payment_status(token, payment_id):
    """The status page asks again (htmx every two seconds, or the button): the provider is asked."""
    invoice, payment = _payment_of(token, payment_id)

    def answer(warning=None):
        if not is_htmx():
            return redirect(url_for("billing_public.payment_status", token=token, payment_id=payment_id))
        db.session.expire_all()
        return _status(db.session.get(type(invoice), invoice.id), db.session.get(Payment, payment_id), warning)

    return perform(lambda: check_payment(payment), then=lambda _: answer(), failed=lambda error: answer(error.message))


@public_bp.post("/webhooks/paynow")
def paynow_webhook():
    fields = list(request.form.items(multi=True))
    return perform(
        lambda: record_paynow_callback(fields),
        then=lambda message: (message, 200, {"Content-Type": "text/plain"}),
        failed=lambda error: (error.message, error.status, {"Content-Type": "text/plain"}),
    )


@public_bp.post("/webhooks/stripe")
def stripe_webhook():
    payload, signature = request.get_data(), request.headers.get("Stripe-Signature")
    return perform(
        lambda: receive_stripe_webhook(payload, signature),
        then=lambda new: ({"received": True, "duplicate": not new}, 200),
        failed=lambda error: ({"error": {"message": error.message}}, error.status),
    )
