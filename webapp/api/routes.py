"""/o/<slug>/api-keys: create (shown once), list, revoke."""

from __future__ import annotations

from flask import current_app, flash, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.api import bp, services
from webapp.api.forms import ApiKeyForm, EmptyForm
from webapp.api.models import ApiKey
from webapp.core.access import org_object_or_404, org_view
from webapp.core.errors import DomainError
from webapp.core.forms import apply_error
from webapp.core.htmx import redirect, render
from webapp.extensions import db


def _page(org, form=None, new_key=None, status=200):
    keys = list(db.session.scalars(select(ApiKey).where(ApiKey.organization_id == org.id).order_by(ApiKey.id.desc())))
    redis = (
        current_app.extensions["tessera.redis"] if current_app.extensions.get("tessera.jobs_backend") == "rq" else None
    )
    return render(
        "api/keys.html",
        block="api_keys",
        org=org,
        keys=keys,
        last_used=services.last_used_map(redis, keys),
        form=form or ApiKeyForm(),
        button=EmptyForm(),
        new_key=new_key,
        status=status,
    )


@bp.get("")
@org_view("api")
def keys(org):
    return _page(org)


@bp.post("")
@org_view("api")
def create(org):
    form = ApiKeyForm()
    if form.validate_on_submit():
        try:
            key, plain = services.create_key(
                org,
                current_user.user,
                form.name.data,
                form.scopes.data,
                form.rate_limit.data,
                services.parse_expiry(form.expires_in_days.data),
            )
        except DomainError as error:
            apply_error(form, error)
        else:
            db.session.commit()
            # Shown once, in this response only; never stored, never redirected through the session.
            return _page(org, new_key={"name": key.name, "value": plain}, status=201)
    return _page(org, form=form, status=422)


@bp.post("/<int:api_key_id>/revoke")
@org_view("api")
def revoke(org, api_key_id: int):
    key = org_object_or_404(ApiKey, org, api_key_id)
    if EmptyForm().validate_on_submit():
        try:
            services.revoke_key(key, current_user.user)
        except DomainError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(f"Key {key.key_prefix}… is revoked.", "success")
    return redirect(url_for("api.keys", slug=org.slug))
