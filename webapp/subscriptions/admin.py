"""/admin/plans: staff edit the catalog and set ENTERPRISE terms for one organization."""

from __future__ import annotations

import json

from flask import request, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.core.errors import DomainError
from webapp.core.htmx import render
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.orgs.models import Organization
from webapp.subscriptions import admin_bp, services
from webapp.subscriptions.catalog import catalog
from webapp.subscriptions.forms import EnterpriseForm, PlanForm
from webapp.subscriptions.models import LIMITS, Plan, Subscription


def _plan_form(plan, formdata=None):
    form = PlanForm(formdata=formdata, obj=None if formdata else plan, prefix=f"p{plan.id}")
    if formdata is None:
        form.metered_prices.data = json.dumps(plan.metered_prices or {}, indent=1)
    return form


def _page(forms=None, enterprise_form=None, status=200):
    plans = catalog()
    forms = forms or {}
    enterprise_subs = db.session.scalars(
        select(Subscription)
        .join(Plan, Subscription.plan_id == Plan.id)
        .where(Plan.is_custom_priced.is_(True), Subscription.ended_at.is_(None))
    ).all()
    return render(
        "subscriptions/admin_plans.html",
        plans=[(plan, forms.get(plan.id) or _plan_form(plan)) for plan in plans],
        enterprise_form=enterprise_form or EnterpriseForm(),
        enterprise_subs=enterprise_subs,
        status=status,
    )


@admin_bp.get("/")
def index():
    return _page()


@admin_bp.post("/<int:plan_id>")
def update(plan_id: int):
    plan = db.get_or_404(Plan, plan_id)
    form = _plan_form(plan, request.form)

    def failed(_error=None):
        return _page(forms={plan_id: form}, status=422)

    if not form.validate_on_submit():
        return failed()
    try:
        metered = json.loads(form.metered_prices.data or "{}")
    except ValueError:
        form.metered_prices.errors = ["Write the metered prices as JSON."]
        return failed()
    values = {name: getattr(form, name).data for name in services.PLAN_FIELDS if name != "metered_prices"}
    return perform(
        lambda: services.update_plan(plan, current_user.user, metered_prices=metered, **values),
        then=url_for("subscriptions_admin.index"),
        success=lambda _: f"{plan.name} saved.",
        form=form,
        failed=failed,
    )


@admin_bp.post("/enterprise")
def enterprise():
    form = EnterpriseForm()
    if not form.validate_on_submit():
        return _page(enterprise_form=form, status=422)

    def terms():
        org = db.session.scalar(
            select(Organization).where(
                Organization.slug == form.org_slug.data.strip().lower(), Organization.deleted_at.is_(None)
            )
        )
        if org is None:
            raise DomainError("There is no organization at that address.", field="org_slug")
        limits = {name: getattr(form, name).data for name in LIMITS}
        monthly, yearly = form.monthly_price.data, form.yearly_price.data
        if monthly is None or yearly is None:  # both are required: a validated form carries them
            raise DomainError("Give the monthly and the yearly price.", field="monthly_price")
        services.set_enterprise_terms(org, current_user.user, monthly, yearly, form.interval.data, limits)
        return org

    return perform(
        terms,
        then=url_for("subscriptions_admin.index"),
        success=lambda org: f"{org.name} is on Enterprise.",
        form=form,
        failed=lambda _: _page(enterprise_form=form, status=422),
    )
