"""/admin/coupons: staff create, list and deactivate coupons and promotion codes (audited by the services)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from webapp.core.forms import EmptyForm
from webapp.core.htmx import render
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.subscriptions import coupons, coupons_admin_bp
from webapp.subscriptions.catalog import catalog
from webapp.subscriptions.coupon_models import Coupon, PromotionCode
from webapp.subscriptions.forms import CouponForm, PromotionCodeCreateForm


def _end_of(day) -> datetime | None:
    """A date typed as "the last day" as the first instant after it (UTC)."""
    if day is None:
        return None
    try:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
    except OverflowError:  # 31 Dec 9999: the end of the calendar
        return datetime.max.replace(tzinfo=UTC)


def _coupon_form(formdata=None) -> CouponForm:
    form = CouponForm(formdata=formdata)
    form.plans.choices = [SelectChoice(p.code, p.name) for p in catalog() if not p.is_free]
    return form


def _code_form(formdata=None) -> PromotionCodeCreateForm:
    form = PromotionCodeCreateForm(formdata=formdata)
    form.coupon_id.choices = [
        SelectChoice(c.id, f"{c.name} — {coupons.describe_coupon(c)}") for c in coupons.coupons() if c.active
    ]
    return form


def _page(coupon_form=None, code_form=None, status=200):
    return render(
        "subscriptions/admin_coupons.html",
        coupons=coupons.coupons(),
        codes=coupons.promotion_codes(),
        describe=coupons.describe_coupon,
        coupon_form=coupon_form or _coupon_form(),
        code_form=code_form or _code_form(),
        button=EmptyForm(),
        status=status,
    )


def _index_url() -> str:
    return url_for("coupons_admin.index")


@coupons_admin_bp.get("/")
def index():
    return _page()


@coupons_admin_bp.post("/")
def create():
    form = _coupon_form(request.form)
    if not form.validate_on_submit():
        return _page(coupon_form=form, status=422)
    return perform(
        lambda: coupons.create_coupon(
            current_user.user,
            name=form.name.data,
            percent_off_bps=form.percent_off.data,
            amount_off=form.amount_off.data,
            currency=form.currency.data,
            duration=form.duration.data,
            duration_in_months=form.duration_in_months.data,
            max_redemptions=form.max_redemptions.data,
            redeem_by=_end_of(form.redeem_by.data),
            plan_codes=form.plans.data or [],
        ),
        then=_index_url(),
        success=lambda c: f"Coupon {c.name} created: {coupons.describe_coupon(c)}.",
        form=form,
        failed=lambda _: _page(coupon_form=form, status=422),
    )


@coupons_admin_bp.post("/<int:coupon_id>/deactivate")
def deactivate(coupon_id: int):
    coupon = db.get_or_404(Coupon, coupon_id)
    if not EmptyForm().validate_on_submit():
        return _page(status=400)
    return perform(
        lambda: coupons.deactivate_coupon(coupon, current_user.user),
        then=_index_url(),
        success=f"Coupon {coupon.name} deactivated; discounts already applied run their course.",
    )


@coupons_admin_bp.post("/codes")
def create_code():
    form = _code_form(request.form)
    if not form.validate_on_submit():
        return _page(code_form=form, status=422)

    def make():
        coupon = db.get_or_404(Coupon, form.coupon_id.data)
        return coupons.create_promotion_code(
            coupon,
            current_user.user,
            form.code.data,
            max_redemptions=form.code_max_redemptions.data,
            expires_at=_end_of(form.code_expires_at.data),
        )

    return perform(
        make,
        then=_index_url(),
        success=lambda p: f"Promotion code {p.code} created.",
        form=form,
        failed=lambda _: _page(code_form=form, status=422),
    )


@coupons_admin_bp.post("/codes/<int:code_id>/deactivate")
def deactivate_code(code_id: int):
    promo = db.get_or_404(PromotionCode, code_id)
    if not EmptyForm().validate_on_submit():
        return _page(status=400)
    return perform(
        lambda: coupons.deactivate_promotion_code(promo, current_user.user),
        then=_index_url(),
        success=f"Promotion code {promo.code} deactivated.",
    )
