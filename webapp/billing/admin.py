"""Staff pages: /admin/invoices, /admin/payments, /admin/services, /admin/billing/<org_id> and billing runs.
Every action calls a billing service; nothing here repeats a rule."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import defer, selectinload

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
from webapp.billing.queries import BOOKS_CURRENCY, figures, filtered_invoices
from webapp.core.errors import DomainError
from webapp.core.htmx import redirect, render
from webapp.core.models import get_existing, utcnow
from webapp.core.pagination import paginate
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.orgs.models import Organization


def _staff():
    return current_user.user


def _org_by_slug(slug: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(Organization.slug == (slug or "").strip().lower()))


# --- invoices ----------------------------------------------------------------------------------


def _invoices_page(draft_form=None, run_form=None, status=200):
    stmt, used = filtered_invoices(request.args)
    # Each row names its organization: loaded for the page in one query, not one per row.
    page = paginate(stmt.options(selectinload(Invoice.organization)), request.args.get("page", 1, type=int))
    # A run's report lists every account it billed: the list shows the runs' progress, not that.
    runs = db.session.scalars(
        select(BillingRun).options(defer(BillingRun.report)).order_by(BillingRun.id.desc()).limit(5)
    ).all()
    orgs = db.session.execute(select(Organization.id, Organization.name).order_by(Organization.name).limit(500)).all()
    return render(
        "billing/admin/invoices.html",
        block="invoice_list",
        page=page,
        filters=used,
        figures=figures(currency=BOOKS_CURRENCY),
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
    if not form.validate_on_submit():
        return _invoices_page(draft_form=form, status=422)

    def draft():
        org = _org_by_slug(form.organization.data)
        if org is None:
            raise DomainError("No organization has that slug.", field="organization")
        start, end = billing.parse_period(form.period.data)
        return billing.create_draft_invoice(
            billing.billing_account_for(org), period_start=start, period_end=end, actor=_staff()
        )

    return perform(
        draft,
        then=lambda invoice: redirect(url_for("billing_admin.invoice", invoice_id=invoice.id)),
        form=form,
        field="period",
        failed=lambda _: _invoices_page(draft_form=form, status=422),
    )


@admin_bp.post("/invoices/runs")
def start_run():
    form = RunForm()
    if not form.validate_on_submit():
        return _invoices_page(run_form=form, status=422)
    return perform(
        lambda: billing.start_billing_run(form.period.data.strip(), _staff()),
        then=url_for("billing_admin.invoices"),
        success=lambda run: f"Billing run for {run.period} started.",
        form=form,
        field="period",
        failed=lambda _: _invoices_page(run_form=form, status=422),
    )


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
    defaults: dict[str, Any] = dict(
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


def _invoice_url(invoice_id) -> str:
    return url_for("billing_admin.invoice", invoice_id=invoice_id)


def _form_failed(invoice_id, form_name: str, form):
    """``failed=`` for a form on the invoice page: the page again, the message beside its field (422)."""
    return lambda _: _invoice_page(_invoice_or_404(invoice_id), status=422, **{form_name: form})


@admin_bp.post("/invoices/<int:invoice_id>/lines")
def add_line(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    form = LineForm()
    if not form.validate_on_submit():
        return _invoice_page(invoice, status=422, line_form=form)
    return perform(
        lambda: billing.add_line_item(
            invoice,
            form.description.data,
            form.quantity.data,
            form.unit_price.cents,
            service=form.service.data or None,
            actor=_staff(),
        ),
        then=_invoice_url(invoice_id),
        success="Line added.",
        form=form,
        failed=_form_failed(invoice_id, "line_form", form),
    )


@admin_bp.post("/invoices/<int:invoice_id>/finalize")
def finalize(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    return perform(
        lambda: billing.finalize_invoice(invoice, _staff()),
        then=_invoice_url(invoice_id),
        success=lambda done: _mailed("Invoice finalized", done),
    )


def _mailed(what: str, invoice) -> str:
    if invoice.organization.is_suspended:
        return f"{what}; its e-mail is held until the organization is reactivated."
    return f"{what} and e-mailed."


@admin_bp.post("/invoices/<int:invoice_id>/void")
def void(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    form = ReasonForm(prefix="void")
    if not form.validate_on_submit():
        return _invoice_page(invoice, status=422, void_form=form)
    return perform(
        lambda: billing.void_invoice(invoice, _staff(), form.reason.data),
        then=_invoice_url(invoice_id),
        success="Invoice voided.",
        form=form,
        failed=_form_failed(invoice_id, "void_form", form),
    )


@admin_bp.post("/invoices/<int:invoice_id>/credit")
def credit(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    form = CreditForm()
    if not form.validate_on_submit():
        return _invoice_page(invoice, status=422, credit_form=form)
    return perform(
        lambda: billing.issue_credit(
            get_existing(BillingAccount, invoice.account_id),
            _staff(),
            form.amount.cents,
            form.reason.data,
            invoice=invoice,
        ),
        then=_invoice_url(invoice_id),
        success="Credit issued.",
        form=form,
        failed=_form_failed(invoice_id, "credit_form", form),
    )


@admin_bp.post("/invoices/<int:invoice_id>/credit-note")
def credit_note(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    form = ReasonForm(prefix="note")
    if not form.validate_on_submit():
        return _invoice_page(invoice, status=422, note_form=form)
    return perform(
        lambda: billing.issue_credit_note(invoice, _staff(), form.reason.data),
        then=_invoice_url(invoice_id),
        success="Credit note issued; the amount is on the account's credit balance.",
        form=form,
        failed=_form_failed(invoice_id, "note_form", form),
    )


@admin_bp.post("/invoices/<int:invoice_id>/payments")
def manual_payment(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    form = ManualPaymentForm()
    if not form.validate_on_submit():
        return _invoice_page(invoice, status=422, payment_form=form)
    return perform(
        lambda: billing.record_manual_payment(
            invoice, _staff(), form.amount.cents, form.method.data, form.reference.data
        ),
        then=_invoice_url(invoice_id),
        success="Payment recorded.",
        form=form,
        failed=_form_failed(invoice_id, "payment_form", form),
    )


@admin_bp.post("/invoices/<int:invoice_id>/pay-with-credit")
def apply_credit(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    return perform(
        lambda: billing.pay_from_credit(invoice, _staff()),
        then=_invoice_url(invoice_id),
        success="Credit balance applied.",
    )


@admin_bp.post("/invoices/<int:invoice_id>/resend")
def resend(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    return perform(
        lambda: billing.resend_invoice_email(invoice, _staff()),
        then=_invoice_url(invoice_id),
        success=lambda _: "E-mail held until reactivation." if invoice.organization.is_suspended else "E-mail queued.",
    )


@admin_bp.post("/invoices/<int:invoice_id>/new-link")
def new_link(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    return perform(
        lambda: billing.refresh_payment_link(invoice, _staff()),
        then=_invoice_url(invoice_id),
        success="A new payment link was made.",
    )


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
        figures=figures(currency=BOOKS_CURRENCY),
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
    if not form.validate_on_submit():
        return _services_page(form, status=422)

    def create():
        org = _org_by_slug(form.organization.data)
        if org is None:
            raise DomainError("No organization has that slug.", field="organization")
        return billing.create_service(
            org,
            _staff(),
            type=form.type.data,
            name=form.name.data,
            monthly_fee=form.monthly_fee.cents,
            hardware_serial=form.hardware_serial.data,
        )

    return perform(
        create,
        then=lambda service: redirect(url_for("billing_admin.org_billing", org_id=service.organization_id)),
        success="Service created.",
        form=form,
        failed=lambda _: _services_page(form, status=422),
    )


@admin_bp.post("/services/<int:service_id>/<any(suspend, activate, cancel):action>")
def service_action(service_id, action):
    service = db.session.get(Service, service_id) or abort(404)
    rule = {
        "suspend": billing.suspend_service,
        "activate": billing.activate_service,
        "cancel": billing.cancel_service,
    }[action]
    back = url_for("billing_admin.org_billing", org_id=service.organization_id)
    return perform(
        lambda: rule(service, _staff()),
        then=back,
        success=lambda _: f"{service.name}: {service.status.title()}.",
    )


@admin_bp.post("/services/<int:service_id>/edit")
def edit_service(service_id):
    service = db.session.get(Service, service_id) or abort(404)
    back = url_for("billing_admin.org_billing", org_id=service.organization_id)
    form = ServiceForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(back)
    return perform(
        lambda: billing.update_service(
            service,
            _staff(),
            name=form.name.data,
            monthly_fee=form.monthly_fee.cents,
            hardware_serial=form.hardware_serial.data,
        ),
        then=back,
        success="Service saved.",
    )


def _org_billing_page(org, form=None, status=200):
    account = billing.billing_account_for(org)
    invoices_ = db.session.scalars(
        select(Invoice).where(Invoice.organization_id == org.id).order_by(Invoice.id.desc()).limit(50)
    ).all()
    return render(
        "billing/admin/org_billing.html",
        org=org,
        account=account,
        form=form or GraceForm(grace_period_days=account.grace_period_days),
        services=billing.services_of(org),
        invoices=invoices_,
        service_form=ServiceForm(organization=org.slug),
        figures=figures(org.id, currency=BOOKS_CURRENCY),
        figures_of_org=org,
        status=status,
    )


@admin_bp.route("/billing/<int:org_id>", methods=["GET", "POST"])
def org_billing(org_id):
    org = db.session.get(Organization, org_id) or abort(404)
    if request.method != "POST":
        return _org_billing_page(org)
    form = GraceForm()
    if not form.validate_on_submit():
        return _org_billing_page(org, form, status=422)
    return perform(
        lambda: billing.set_grace_period(billing.billing_account_for(org), _staff(), form.grace_period_days.data),
        then=url_for("billing_admin.org_billing", org_id=org.id),
        success="Grace period saved.",
        form=form,
        failed=lambda _: _org_billing_page(org, form, status=422),
    )
