"""Billing: accounts, services, invoices, payments (Paynow, Stripe, manual, credit), saved cards,
automatic collection, refunds and credit notes, credits, dunning, runs."""

from flask import Blueprint

from webapp.admin import staff_blueprint

bp = Blueprint("billing", __name__)
admin_bp = staff_blueprint("billing_admin", __name__, "/admin")
public_bp = Blueprint("billing_public", __name__)


_nav_done = False  # the navigation items are registered once, whatever the number of apps


def init_app(app):
    from webapp.admin import FIGURE_SOURCES, admin_nav_item, console_page
    from webapp.billing import cli, panels  # noqa: F401
    from webapp.billing.figures import billing_figures
    from webapp.billing.services.invoices import create_account_for_new_org
    from webapp.core.registry import add_once
    from webapp.extensions import csrf, limiter
    from webapp.orgs.dashboard import nav_item
    from webapp.orgs.services import ORGANIZATION_CREATED_HOOKS

    add_once(ORGANIZATION_CREATED_HOOKS, create_account_for_new_org)
    add_once(FIGURE_SOURCES, billing_figures)
    console_page("invoices", "billing_admin.invoices")
    console_page("payments", "billing_admin.payments")

    for webhook in (public.paynow_webhook, public.stripe_webhook):
        csrf.exempt(webhook)
        limiter.exempt(webhook)
    from webapp.billing.payment_panels import account_payments, invoice_payments
    from webapp.billing.providers import load_providers

    load_providers()
    from webapp.billing.issuer import issuer_details

    app.jinja_env.globals.update(
        invoice_payments=invoice_payments, account_payments=account_payments, invoice_issuer=issuer_details
    )
    app.cli.add_command(cli.billing_cli)
    global _nav_done
    if not _nav_done:
        _nav_done = True
        nav_item("Billing", "billing.overview", "billing", 30)
        nav_item("Services", "billing.services", "services", 32)
        # One entry: every page of the billing staff blueprint lights it; the pages carry a sub-menu.
        admin_nav_item("Billing", "billing_admin.invoices", 15)


from webapp.billing import (  # noqa: E402,F401
    admin,
    issuer,
    jobs,
    models,
    payment_admin,
    payment_models,
    payment_routes,
    public,
    routes,
)
