"""/o/<slug>/api-keys: create (shown once), list, revoke."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.api import bp, services
from webapp.api.forms import ApiKeyForm
from webapp.api.models import ApiKey
from webapp.core import reveal
from webapp.core.access import org_object_or_404, org_view
from webapp.core.forms import EmptyForm
from webapp.core.htmx import redirect, render
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.jobs.runner import redis_if_used


def _page(org, form=None, new_key=None, status=200):
    keys = list(db.session.scalars(select(ApiKey).where(ApiKey.organization_id == org.id).order_by(ApiKey.id.desc())))
    redis = redis_if_used()
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


def _reveal_kind(org) -> str:
    return f"api-key:{org.id}"


@bp.get("")
@org_view("api")
def keys(org):
    return _page(org, new_key=reveal.take(_reveal_kind(org)))


@bp.post("")
@org_view("api")
def create(org):
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _page(org, form=form, status=422)
    return perform(
        lambda: services.create_key(
            org,
            current_user.user,
            form.name.data,
            form.scopes.data,
            form.rate_limit.data,
            services.parse_expiry(form.expires_in_days.data),
        ),
        # Post-redirect-get: the secret rides sealed in the session to the next page, shown there once,
        # so a reload neither makes a second key nor shows this one again.
        then=lambda created: _created(org, *created),
        form=form,
        failed=lambda _: _page(org, form=form, status=422),
    )


def _created(org, key: ApiKey, value: str):
    reveal.stash(_reveal_kind(org), {"name": key.name, "value": value})
    return redirect(url_for("api.keys", slug=org.slug))


@bp.post("/<int:api_key_id>/revoke")
@org_view("api")
def revoke(org, api_key_id: int):
    key = org_object_or_404(ApiKey, org, api_key_id)
    keys_url = url_for("api.keys", slug=org.slug)
    if not EmptyForm().validate_on_submit():
        return redirect(keys_url)
    return perform(
        lambda: services.revoke_key(key, current_user.user),
        then=keys_url,
        success=f"Key {key.key_prefix}… is revoked.",
    )
