"""Staff payment pages: refunds and credit notes of an invoice, charging a saved card now, all credit
notes and credits, and account credit without an invoice. Every action calls the billing services."""

from __future__ import annotations

from flask import Response, abort, request, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.billing import admin_bp
from webapp.billing.credit_note_pdf import credit_note_pdf
from webapp.billing.models import Credit, Invoice, Payment
from webapp.billing.payment_forms import AccountCreditForm, RefundForm
from webapp.billing.payment_models import CreditNote
from webapp.billing.services import billing_account_for, issue_account_credit, issue_credit_note
from webapp.billing.services.collection import collect_invoice
from webapp.core.errors import DomainError
from webapp.core.htmx import render
from webapp.core.pagination import paginate
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.orgs.models import Organization


def _invoice_url(invoice_id: int) -> str:
    return url_for("billing_admin.invoice", invoice_id=invoice_id)


@admin_bp.post("/invoices/<int:invoice_id>/refund")
def refund(invoice_id):
    invoice = db.session.get(Invoice, invoice_id) or abort(404)
    form = RefundForm(prefix="refund")
    form.payment_id.choices = [(0, "")] + [(p.id, str(p.id)) for p in invoice.payments]
    if not form.validate_on_submit():
        return perform(lambda: _invalid(form), then=_invoice_url(invoice.id))

    def credit():
        try:
            lines = form.line_amounts(invoice, request.form)
        except ValueError:
            raise DomainError("Enter the amounts to credit like 12.50.", field="lines") from None
        payment = db.session.get(Payment, form.payment_id.data) if form.payment_id.data else None
        return issue_credit_note(
            invoice,
            current_user.user,
            form.reason.data,
            lines=lines,
            payment=payment,
            destination=form.destination.data,
            reference=form.reference.data,
        )

    return perform(
        credit,
        then=_invoice_url(invoice.id),
        success=lambda note: f"Credit note {note.number} issued for {note.total / 100:.2f} {note.currency}.",
    )


def _invalid(form):
    raise DomainError(" ".join(e for errors in form.errors.values() for e in errors) or "Check the refund form.")


@admin_bp.post("/invoices/<int:invoice_id>/collect")
def collect_now(invoice_id):
    invoice = db.session.get(Invoice, invoice_id) or abort(404)

    def collect():
        attempt = collect_invoice(invoice.id, actor=current_user.user, force=True)
        if attempt is None:
            raise DomainError("Nothing to charge: no default card, nothing due, or a charge is under way.")
        return attempt

    return perform(
        collect,
        then=_invoice_url(invoice.id),
        success=lambda attempt: f"Attempt {attempt.number}: {attempt.status.replace('_', ' ').lower()}.",
    )


@admin_bp.get("/credit-notes")
def credit_notes():
    stmt = select(CreditNote).order_by(CreditNote.id.desc())
    org = (request.args.get("org") or "").strip().lower()
    if org:
        stmt = stmt.join(Organization, Organization.id == CreditNote.organization_id).where(Organization.slug == org)
    page = paginate(stmt, request.args.get("page", 1, type=int))
    return render("billing/admin/credit_notes.html", block="credit_note_list", page=page, filters={"org": org})


@admin_bp.get("/credit-notes/<int:credit_note_id>.pdf")
def credit_note_pdf_admin(credit_note_id):
    note = db.session.get(CreditNote, credit_note_id) or abort(404)
    return Response(credit_note_pdf(note), mimetype="application/pdf")


@admin_bp.get("/credits")
def credits():
    stmt = select(Credit).order_by(Credit.id.desc())
    kind = (request.args.get("kind") or "").upper()
    if kind:
        stmt = stmt.where(Credit.kind == kind)
    page = paginate(stmt, request.args.get("page", 1, type=int))
    ids = {c.organization_id for c in page.items}
    names = dict(db.session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids))).all())
    return render("billing/admin/credits.html", block="credit_list", page=page, filters={"kind": kind}, names=names)


@admin_bp.post("/billing/<int:org_id>/credit")
def account_credit(org_id):
    """Account credit without an invoice (reason and issuer recorded)."""
    org = db.session.get(Organization, org_id) or abort(404)
    form = AccountCreditForm(prefix="account")
    back = url_for("billing_admin.org_billing", org_id=org.id)
    if not form.validate_on_submit():
        return perform(lambda: _invalid(form), then=back)
    return perform(
        lambda: issue_account_credit(billing_account_for(org), current_user.user, form.amount.cents, form.reason.data),
        then=back,
        success=lambda credit: f"Credit of {credit.amount / 100:.2f} {credit.currency} issued.",
    )
