"""Customer pages: billing overview, invoices (+ PDF, CSV), payments, credits, services."""

from __future__ import annotations

from flask import Response, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.billing import bp
from webapp.billing.exports import invoice_pdf, invoices_csv
from webapp.billing.forms import ReasonForm
from webapp.billing.models import DRAFT, OPEN_STATUSES, Credit, Invoice, Payment
from webapp.billing.queries import figures, filtered_invoices
from webapp.billing.services import billing_account_for, pay_from_credit, services_of
from webapp.core.access import org_object_or_404, org_view
from webapp.core.htmx import render
from webapp.core.pagination import paginate
from webapp.core.transaction import perform
from webapp.extensions import db


@bp.get("/o/<slug>/billing/")
@org_view("billing")
def overview(org):
    account = billing_account_for(org)
    open_invoices = db.session.scalars(
        select(Invoice)
        .where(Invoice.account_id == account.id, Invoice.status.in_(OPEN_STATUSES))
        .order_by(Invoice.due_at)
    ).all()
    recent = db.session.scalars(
        select(Invoice)
        .where(Invoice.account_id == account.id, Invoice.status != DRAFT)
        .order_by(Invoice.id.desc())
        .limit(5)
    ).all()
    return render(
        "billing/overview.html",
        org=org,
        account=account,
        open_invoices=open_invoices,
        recent=recent,
        figures=figures(org.id, currency=account.currency),
        services=services_of(org),
    )


def _customer_invoices(org):
    stmt, used = filtered_invoices(request.args, org_id=org.id)
    return stmt.where(Invoice.status != DRAFT), used


@bp.get("/o/<slug>/billing/invoices")
@org_view("billing")
def invoices(org):
    stmt, used = _customer_invoices(org)
    page = paginate(stmt, request.args.get("page", 1, type=int))
    return render("billing/invoices.html", block="invoice_list", org=org, page=page, filters=used)


@bp.get("/o/<slug>/billing/invoices.csv")
@org_view("billing")
def invoices_export(org):
    stmt, _used = _customer_invoices(org)
    body = invoices_csv(db.session.scalars(stmt.limit(50_000)))
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{org.slug}-invoices.csv"'}
    )


def _visible_invoice(org, invoice_id):
    invoice = org_object_or_404(Invoice, org, invoice_id, selectinload(Invoice.lines), selectinload(Invoice.payments))
    if invoice.status == DRAFT:
        from flask import abort

        abort(404)  # drafts are staff work in progress
    return invoice


@bp.get("/o/<slug>/billing/invoices/<int:invoice_id>")
@org_view("billing")
def invoice_detail(org, invoice_id):
    invoice = _visible_invoice(org, invoice_id)
    account = billing_account_for(org)
    return render("billing/invoice_detail.html", org=org, invoice=invoice, account=account, form=ReasonForm())


@bp.get("/o/<slug>/billing/invoices/<int:invoice_id>.pdf")
@org_view("billing")
def invoice_pdf_view(org, invoice_id):
    invoice = _visible_invoice(org, invoice_id)
    return Response(
        invoice_pdf(invoice),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{invoice.number}.pdf"'},
    )


@bp.post("/o/<slug>/billing/invoices/<int:invoice_id>/pay-with-credit")
@org_view("billing")
def pay_with_credit(org, invoice_id):
    invoice = _visible_invoice(org, invoice_id)
    return perform(
        lambda: pay_from_credit(invoice, current_user.user),
        then=url_for("billing.invoice_detail", slug=org.slug, invoice_id=invoice_id),
        success=lambda payment: f"Credit of {payment.amount / 100:.2f} {payment.currency} applied.",
    )


@bp.get("/o/<slug>/billing/payments")
@org_view("billing")
def payments(org):
    stmt = select(Payment).where(Payment.organization_id == org.id).order_by(Payment.id.desc())
    page = paginate(stmt, request.args.get("page", 1, type=int))
    return render("billing/payments.html", block="payment_list", org=org, page=page)


@bp.get("/o/<slug>/billing/credits")
@org_view("billing")
def credits(org):
    account = billing_account_for(org)
    stmt = select(Credit).where(Credit.organization_id == org.id).order_by(Credit.id.desc())
    page = paginate(stmt, request.args.get("page", 1, type=int))
    return render("billing/credits.html", block="credit_list", org=org, page=page, account=account)


@bp.get("/o/<slug>/services")
@org_view("services")
def services(org):
    return render("billing/services.html", org=org, services=services_of(org))
