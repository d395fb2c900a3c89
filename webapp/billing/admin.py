"""Staff pages: /admin/invoices, /admin/payments, /admin/services, /admin/billing/<org_id> and billing runs.
Every action calls a billing service; nothing here repeats a rule."""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.billing import admin_bp
from webapp.billing import services as billing
from webapp.billing.exports import invoices_csv
from webapp.billing.forms import (
    CreditForm,
    DraftInvoiceForm,
    GraceForm,
    LineForm,
    ManualPaymentForm,
    ReasonForm,
    RunForm,
    ServiceForm,
)
from webapp.billing.models import PAYMENT_STATUSES, BillingAccount, BillingRun, Credit, Invoice, Payment, Service
from webapp.billing.queries import figures, filtered_invoices
from webapp.core.errors import DomainError
from webapp.core.forms import apply_error
from webapp.core.htmx import redirect, render
from webapp.core.models import utcnow
from webapp.core.pagination import paginate
from webapp.extensions import db
from webapp.orgs.models import Organization


def _staff():
    return current_user.user


def _org_by_slug(slug: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(Organization.slug == (slug or "").strip().lower()))


# --- invoices ----------------------------------------------------------------------------------


def _invoices_page(draft_form=None, run_form=None, status=200):
    stmt, used = filtered_invoices(request.args)
    page = paginate(stmt, request.args.get("page", 1, type=int))
    runs = db.session.scalars(select(BillingRun).order_by(BillingRun.id.desc()).limit(5)).all()
    orgs = db.session.execute(select(Organization.id, Organization.name).order_by(Organization.name).limit(500)).all()
    return render(
        "billing/admin/invoices.html",
        block="invoice_list",
        page=page,
        filters=used,
        figures=figures(),
        runs=runs,
        orgs=orgs,
        draft_form=draft_form or DraftInvoiceForm(),
        run_form=run_form or RunForm(period=billing.previous_period(utcnow().date())),
        status=status,
    )


@admin_bp.get("/invoices")
def invoices():
    return _invoices_page()


@admin_bp.get("/invoices.csv")
def invoices_export():
    stmt, _ = filtered_invoices(request.args)
    return Response(
        invoices_csv(db.session.scalars(stmt.limit(100_000))),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="invoices.csv"'},
    )


@admin_bp.post("/invoices/new")
def create_draft():
    form = DraftInvoiceForm()
    if form.validate_on_submit():
        org = _org_by_slug(form.organization.data)
        try:
            if org is None:
                raise DomainError("No organization has that slug.", field="organization")
            start, end = billing.parse_period(form.period.data)
            invoice = billing.create_draft_invoice(
                billing.billing_account_for(org), period_start=start, period_end=end, actor=_staff()
            )
        except DomainError as error:
            db.session.rollback()
            apply_error(form, error, field="period")
        else:
            db.session.commit()
            return redirect(url_for("billing_admin.invoice", invoice_id=invoice.id))
    return _invoices_page(draft_form=form, status=422)


@admin_bp.post("/invoices/runs")
def start_run():
    form = RunForm()
    if form.validate_on_submit():
        try:
            run = billing.start_billing_run(form.period.data.strip(), _staff())
        except DomainError as error:
            db.session.rollback()
            apply_error(form, error, field="period")
        else:
            db.session.commit()
            flash(f"Billing run for {run.period} started.", "success")
            return redirect(url_for("billing_admin.invoices"))
    return _invoices_page(run_form=form, status=422)


@admin_bp.get("/invoices/runs/<int:run_id>")
def run_report(run_id):
    """What a run did, per organization: billed (invoice, lines), already billed (by which invoice),
    skipped and why."""
    run = db.session.get(BillingRun, run_id) or abort(404)
    return render("billing/admin/run.html", run=run, report=run.report or [])


@admin_bp.get("/invoices/runs/<int:run_id>/progress")
def run_progress(run_id):
    run = db.session.get(BillingRun, run_id) or abort(404)
    return render("components/_progress.html", run=run, poll_url=url_for("billing_admin.run_progress", run_id=run.id))


def _invoice_or_404(invoice_id) -> Invoice:
    invoice = db.session.scalar(
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .options(selectinload(Invoice.lines), selectinload(Invoice.payments))
    )
    if invoice is None:
        abort(404)
    return invoice


def _invoice_page(invoice, status=200, **forms):
    defaults = dict(
        line_form=LineForm(),
        payment_form=ManualPaymentForm(),
        credit_form=CreditForm(),
        void_form=ReasonForm(prefix="void"),
        note_form=ReasonForm(prefix="note"),
    )
    defaults.update(forms)
    line_services = db.session.scalars(
        select(Service).where(Service.organization_id == invoice.organization_id).order_by(Service.id)
    ).all()
    account = db.session.get(BillingAccount, invoice.account_id)
    credits = db.session.scalars(select(Credit).where(Credit.invoice_id == invoice.id)).all()
    return render(
        "billing/admin/invoice.html",
        invoice=invoice,
        account=account,
        credits=credits,
        line_services=line_services,
        status=status,
        **defaults,
    )


@admin_bp.get("/invoices/<int:invoice_id>")
def invoice(invoice_id):
    return _invoice_page(_invoice_or_404(invoice_id))


def _act(invoice, action, success: str, form_name: str | None = None, form=None):
    """Run one service on the invoice; a refusal returns the page with the message."""
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        if form is not None:
            apply_error(form, error)
            return _invoice_page(_invoice_or_404(invoice.id), status=422, **{form_name: form})
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for("billing_admin.invoice", invoice_id=invoice.id))


@admin_bp.post("/invoices/<int:invoice_id>/lines")
def add_line(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    form = LineForm()
    if not form.validate_on_submit():
        return _invoice_page(invoice, status=422, line_form=form)
    return _act(
        invoice,
        lambda: billing.add_line_item(
            invoice,
            form.description.data,
            form.quantity.data,
            form.unit_price.cents,
            service=form.service.data or None,
            actor=_staff(),
        ),
        "Line added.",
        "line_form",
        form,
    )


@admin_bp.post("/invoices/<int:invoice_id>/finalize")
def finalize(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    return _act(invoice, lambda: billing.finalize_invoice(invoice, _staff()), "Invoice finalized and e-mailed.")


@admin_bp.post("/invoices/<int:invoice_id>/void")
def void(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    form = ReasonForm(prefix="void")
    if not form.validate_on_submit():
        return _invoice_page(invoice, status=422, void_form=form)
    return _act(
        invoice, lambda: billing.void_invoice(invoice, _staff(), form.reason.data), "Invoice voided.", "void_form", form
    )


@admin_bp.post("/invoices/<int:invoice_id>/credit")
def credit(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    form = CreditForm()
    if not form.validate_on_submit():
        return _invoice_page(invoice, status=422, credit_form=form)
    account = db.session.get(BillingAccount, invoice.account_id)
    return _act(
        invoice,
        lambda: billing.issue_credit(account, _staff(), form.amount.cents, form.reason.data, invoice=invoice),
        "Credit issued.",
        "credit_form",
        form,
    )


@admin_bp.post("/invoices/<int:invoice_id>/credit-note")
def credit_note(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    form = ReasonForm(prefix="note")
    if not form.validate_on_submit():
        return _invoice_page(invoice, status=422, note_form=form)
    return _act(
        invoice,
        lambda: billing.issue_credit_note(invoice, _staff(), form.reason.data),
        "Credit note issued; the amount is on the account's credit balance.",
        "note_form",
        form,
    )


@admin_bp.post("/invoices/<int:invoice_id>/payments")
def manual_payment(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    form = ManualPaymentForm()
    if not form.validate_on_submit():
        return _invoice_page(invoice, status=422, payment_form=form)
    return _act(
        invoice,
        lambda: billing.record_manual_payment(
            invoice, _staff(), form.amount.cents, form.method.data, form.reference.data
        ),
        "Payment recorded.",
        "payment_form",
        form,
    )


@admin_bp.post("/invoices/<int:invoice_id>/pay-with-credit")
def apply_credit(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    return _act(invoice, lambda: billing.pay_from_credit(invoice, _staff()), "Credit balance applied.")


@admin_bp.post("/invoices/<int:invoice_id>/resend")
def resend(invoice_id):
    invoice = _invoice_or_404(invoice_id)

    def send():
        from webapp.audit import record
        from webapp.billing.jobs import send_invoice_email

        if not invoice.is_finalized:
            raise DomainError("A draft is not sent; finalize it first.")
        kind = "overdue" if invoice.status == "OVERDUE" else ("issued" if invoice.is_open else "receipt")
        billing.ensure_payment_link(invoice)
        send_invoice_email.delay(invoice.id, kind)
        record(_staff(), "invoice.email_resent", invoice, {"kind": kind})

    return _act(invoice, send, "E-mail queued.")


@admin_bp.post("/invoices/<int:invoice_id>/new-link")
def new_link(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    return _act(invoice, lambda: billing.refresh_payment_link(invoice, _staff()), "A new payment link was made.")


# --- payments ----------------------------------------------------------------------------------


@admin_bp.get("/payments")
def payments():
    stmt = select(Payment).order_by(Payment.id.desc())
    status = (request.args.get("status") or "").upper()
    if status in PAYMENT_STATUSES:
        stmt = stmt.where(Payment.status == status)
    method = (request.args.get("method") or "").upper()
    if method:
        stmt = stmt.where(Payment.method == method)
    page = paginate(stmt, request.args.get("page", 1, type=int))
    return render(
        "billing/admin/payments.html",
        block="payment_list",
        page=page,
        figures=figures(),
        filters={"status": status, "method": method},
    )


# --- services and accounts ---------------------------------------------------------------------


def _services_page(form=None, status=200):
    stmt = select(Service).order_by(Service.id.desc())
    org = _org_by_slug(request.args.get("org", "")) if request.args.get("org") else None
    if org is not None:
        stmt = stmt.where(Service.organization_id == org.id)
    page = paginate(stmt, request.args.get("page", 1, type=int))
    return render(
        "billing/admin/services.html",
        block="service_list",
        page=page,
        form=form or ServiceForm(organization=org.slug if org else ""),
        org=org,
        status=status,
    )


@admin_bp.get("/services")
def services():
    return _services_page()


@admin_bp.post("/services")
def create_service():
    form = ServiceForm()
    if form.validate_on_submit():
        org = _org_by_slug(form.organization.data)
        try:
            if org is None:
                raise DomainError("No organization has that slug.", field="organization")
            billing.create_service(
                org,
                _staff(),
                type=form.type.data,
                name=form.name.data,
                monthly_fee=form.monthly_fee.cents,
                hardware_serial=form.hardware_serial.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_error(form, error)
        else:
            db.session.commit()
            flash("Service created.", "success")
            return redirect(url_for("billing_admin.org_billing", org_id=org.id))
    return _services_page(form, status=422)


@admin_bp.post("/services/<int:service_id>/<any(suspend, activate, cancel):action>")
def service_action(service_id, action):
    service = db.session.get(Service, service_id) or abort(404)
    rule = {
        "suspend": billing.suspend_service,
        "activate": billing.activate_service,
        "cancel": billing.cancel_service,
    }[action]
    try:
        rule(service, _staff())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{service.name}: {service.status.title()}.", "success")
    return redirect(request.form.get("next") or url_for("billing_admin.org_billing", org_id=service.organization_id))


@admin_bp.post("/services/<int:service_id>/edit")
def edit_service(service_id):
    service = db.session.get(Service, service_id) or abort(404)
    form = ServiceForm()
    if form.validate_on_submit():
        try:
            billing.update_service(
                service,
                _staff(),
                name=form.name.data,
                monthly_fee=form.monthly_fee.cents,
                hardware_serial=form.hardware_serial.data,
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash("Service saved.", "success")
    else:
        flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
    return redirect(url_for("billing_admin.org_billing", org_id=service.organization_id))


@admin_bp.route("/billing/<int:org_id>", methods=["GET", "POST"])
def org_billing(org_id):
    org = db.session.get(Organization, org_id) or abort(404)
    account = billing.billing_account_for(org)
    form = GraceForm(grace_period_days=account.grace_period_days)
    if request.method == "POST" and form.validate_on_submit():
        try:
            billing.set_grace_period(account, _staff(), form.grace_period_days.data)
        except DomainError as error:
            db.session.rollback()
            apply_error(form, error)
        else:
            db.session.commit()
            flash("Grace period saved.", "success")
            return redirect(url_for("billing_admin.org_billing", org_id=org.id))
    db.session.commit()
    invoices_ = db.session.scalars(
        select(Invoice).where(Invoice.organization_id == org.id).order_by(Invoice.id.desc()).limit(50)
    ).all()
    return render(
        "billing/admin/org_billing.html",
        org=org,
        account=account,
        form=form,
        services=billing.services_of(org),
        invoices=invoices_,
        service_form=ServiceForm(organization=org.slug),
        figures=figures(org.id),
    )
