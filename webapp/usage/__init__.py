"""Metering: usage events from the JSON API, usage records per metric and month, charts, billing lines."""

from flask import Blueprint

bp = Blueprint("usage", __name__, url_prefix="/o/<slug>/usage")


def init_app(app):
    from webapp.orgs.dashboard import nav_item

    nav_item("Usage", "usage.index", "api", order=46)
    _register_billing_source()


def _register_billing_source():
    """Metered usage reaches invoices through the billing run (``BILLING_RUN_BATCH_SOURCES``)."""
    from webapp.usage.billing import register

    register()


from webapp.usage import routes  # noqa: E402,F401
