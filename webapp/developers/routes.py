"""/o/<slug>/developers/webhooks: endpoints, their secret (shown once), deliveries and attempts."""

from __future__ import annotations

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.core import reveal
from webapp.core.access import org_object_or_404, org_view
from webapp.core.forms import EmptyForm
from webapp.core.htmx import redirect, render
from webapp.core.parsing import int_arg
from webapp.core.transaction import perform
from webapp.developers import bp, services
from webapp.developers.catalog import CATALOG
from webapp.developers.forms import EndpointForm
from webapp.developers.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webapp.extensions import db
from webapp.secrets.fields import decrypt_field

LOG_PAGE = 50


def _remember_reveal(endpoint_id: int) -> None:
    """The next page view of this endpoint (and only that one) shows its secret, read from the row."""
    reveal.stash("webhook_secret", {"endpoint_id": endpoint_id})


def _take_reveal(endpoint: WebhookEndpoint) -> str | None:
    pending = reveal.take("webhook_secret")
    if not pending or pending.get("endpoint_id") != endpoint.id:
        return None
    return decrypt_field(endpoint, "secret")


def _list(org, form=None, status=200):
    endpoints = list(
        db.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.organization_id == org.id).order_by(WebhookEndpoint.id)
        )
    )
    return render(
        "developers/webhooks.html",
        block="webhook_endpoints",
        org=org,
        endpoints=endpoints,
        form=form or EndpointForm(),
        catalog=CATALOG,
        status=status,
    )


@bp.get("/webhooks")
@org_view("api")
def webhooks(org):
    return _list(org)


@bp.post("/webhooks")
@org_view("api")
def create(org):
    form = EndpointForm()
    if not form.validate_on_submit():
        return _list(org, form=form, status=422)

    def created(result):
        endpoint, _secret = result
        _remember_reveal(endpoint.id)
        return redirect(url_for("developers.endpoint", slug=org.slug, endpoint_id=endpoint.id))

    return perform(
        lambda: services.create_endpoint(
            org, current_user.user, form.url.data, form.event_types.data, form.ordered.data, form.description.data
        ),
        then=created,
        form=form,
        failed=lambda _: _list(org, form=form, status=422),
    )


def _endpoint_page(org, endpoint, status=200):
    before = int_arg("before", None, minimum=1)
    stmt = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .options(selectinload(WebhookDelivery.event))
        .order_by(WebhookDelivery.id.desc())
    )
    if before:
        stmt = stmt.where(WebhookDelivery.id < before)
    deliveries = list(db.session.scalars(stmt.limit(LOG_PAGE + 1)))
    more = len(deliveries) > LOG_PAGE
    deliveries = deliveries[:LOG_PAGE]
    return render(
        "developers/endpoint.html",
        org=org,
        endpoint=endpoint,
        secret=_take_reveal(endpoint),
        deliveries=deliveries,
        next_before=deliveries[-1].id if more else None,
        form=EndpointForm(
            formdata=None,
            url=endpoint.url,
            description=endpoint.description,
            event_types=endpoint.event_types,
            ordered=endpoint.ordered,
        ),
        button=EmptyForm(),
        status=status,
    )


@bp.get("/webhooks/<int:endpoint_id>")
@org_view("api")
def endpoint(org, endpoint_id: int):
    return _endpoint_page(org, org_object_or_404(WebhookEndpoint, org, endpoint_id))


def _back(org, endpoint):
    return url_for("developers.endpoint", slug=org.slug, endpoint_id=endpoint.id)


@bp.post("/webhooks/<int:endpoint_id>")
@org_view("api")
def update(org, endpoint_id: int):
    endpoint = org_object_or_404(WebhookEndpoint, org, endpoint_id)
    form = EndpointForm()
    if not form.validate_on_submit():
        return redirect(_back(org, endpoint))
    return perform(
        lambda: services.update_endpoint(
            endpoint, current_user.user, form.url.data, form.event_types.data, form.ordered.data, form.description.data
        ),
        then=_back(org, endpoint),
        success=_("The endpoint is saved."),
    )


def _button(org, endpoint, action, success):
    if not EmptyForm().validate_on_submit():
        return redirect(_back(org, endpoint))
    return perform(action, then=_back(org, endpoint), success=success)


@bp.post("/webhooks/<int:endpoint_id>/rotate")
@org_view("api")
def rotate(org, endpoint_id: int):
    endpoint = org_object_or_404(WebhookEndpoint, org, endpoint_id)
    if not EmptyForm().validate_on_submit():
        return redirect(_back(org, endpoint))

    def rotated(_secret):
        _remember_reveal(endpoint.id)
        return redirect(_back(org, endpoint))

    return perform(
        lambda: services.rotate_secret(endpoint, current_user.user),
        then=rotated,
        success=_("A new secret is made; the previous one still signs for 24 hours."),
        failed=_back(org, endpoint),
    )


@bp.post("/webhooks/<int:endpoint_id>/disable")
@org_view("api")
def disable(org, endpoint_id: int):
    endpoint = org_object_or_404(WebhookEndpoint, org, endpoint_id)
    return _button(org, endpoint, lambda: services.set_enabled(endpoint, current_user.user, False), _("Disabled."))


@bp.post("/webhooks/<int:endpoint_id>/enable")
@org_view("api")
def enable(org, endpoint_id: int):
    endpoint = org_object_or_404(WebhookEndpoint, org, endpoint_id)
    return _button(org, endpoint, lambda: services.set_enabled(endpoint, current_user.user, True), _("Enabled."))


@bp.post("/webhooks/<int:endpoint_id>/test")
@org_view("api")
def send_test(org, endpoint_id: int):
    endpoint = org_object_or_404(WebhookEndpoint, org, endpoint_id)
    return _button(
        org, endpoint, lambda: services.send_test_event(endpoint, current_user.user), _("A test event is on its way.")
    )


@bp.post("/webhooks/<int:endpoint_id>/delete")
@org_view("api")
def delete(org, endpoint_id: int):
    endpoint = org_object_or_404(WebhookEndpoint, org, endpoint_id)
    if not EmptyForm().validate_on_submit():
        return redirect(_back(org, endpoint))
    return perform(
        lambda: services.delete_endpoint(endpoint, current_user.user),
        then=url_for("developers.webhooks", slug=org.slug),
        success=_("The endpoint is deleted."),
    )


def _delivery(org, endpoint_id: int, delivery_id: int) -> tuple[WebhookEndpoint, WebhookDelivery]:
    endpoint = org_object_or_404(WebhookEndpoint, org, endpoint_id)
    delivery = org_object_or_404(WebhookDelivery, org, delivery_id)
    if delivery.endpoint_id != endpoint.id:
        abort(404)
    return endpoint, delivery


@bp.get("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>")
@org_view("api")
def delivery(org, endpoint_id: int, delivery_id: int):
    endpoint, delivery = _delivery(org, endpoint_id, delivery_id)
    attempts = db.session.scalars(
        select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id).order_by(WebhookAttempt.id.desc())
    ).all()
    return render(
        "developers/delivery.html", org=org, endpoint=endpoint, delivery=delivery, attempts=attempts, button=EmptyForm()
    )


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend")
@org_view("api")
def resend(org, endpoint_id: int, delivery_id: int):
    endpoint, delivery = _delivery(org, endpoint_id, delivery_id)
    back = url_for("developers.delivery", slug=org.slug, endpoint_id=endpoint.id, delivery_id=delivery.id)
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    return perform(lambda: services.resend(delivery, current_user.user), then=back, success=_("Sent again shortly."))
