"""/o/<slug>/subscription: plan, period, usage against limits, change with preview, cancel, resume, trial."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from webapp.core.access import org_view
from webapp.core.errors import DomainError
from webapp.core.forms import EmptyForm, apply_error
from webapp.core.htmx import redirect, render
from webapp.core.transaction import perform
from webapp.subscriptions import bp, coupons, services
from webapp.subscriptions.catalog import catalog, catalog_plan
from webapp.subscriptions.forms import ChangePlanForm, PayTrialForm, PromotionCodeForm, TrialForm
from webapp.subscriptions.limits import current_allowance, current_reading, current_usage
from webapp.subscriptions.models import LIMIT_LABELS, LIMITS


def _plan_choices(include_custom=False):
    return [SelectChoice(p.code, p.name) for p in catalog() if include_custom or not p.is_custom_priced]


def _page(org, *, preview=None, refusal=None, change_form=None, trial_form=None, code_form=None, status=200):
    sub = services.current_subscription(org)
    change_form = change_form or ChangePlanForm(plan=sub.plan.code, interval=sub.billing_interval)
    change_form.plan.choices = _plan_choices(include_custom=sub.plan.is_custom_priced)
    trial_form = trial_form or TrialForm()
    trial_form.plan.choices = [
        SelectChoice(p.code, p.name) for p in catalog() if not p.is_free and not p.is_custom_priced
    ]
    usage = [
        {
            "name": name,
            "label": LIMIT_LABELS[name],
            "used": current_usage(org, name),
            "reading": current_reading(org, name),
            "limit": current_allowance(org, name, sub.limit(name)),
        }
        for name in LIMITS
    ]
    return render(
        "subscriptions/show.html",
        block=request.args.get("block") or "subscription",
        org=org,
        sub=sub,
        plans=catalog(),
        usage=usage,
        preview=preview,
        refusal=refusal,
        change_form=change_form,
        trial_form=trial_form,
        pay_form=PayTrialForm(interval=sub.billing_interval),
        code_form=code_form or PromotionCodeForm(formdata=None),
        discount=coupons.live_discount(sub),
        describe_coupon=coupons.describe_coupon_for_reader,
        button=EmptyForm(),
        history=services.history(org),
        status=status,
    )


@bp.get("")
@org_view("billing")
def show(org):
    return _page(org)


@bp.get("/preview")
@org_view("billing")
def preview(org):
    form = ChangePlanForm(request.args, meta={"csrf": False})
    form.plan.choices = _plan_choices(include_custom=True)
    if not form.validate():
        return _page(org, change_form=form, status=422)
    try:
        result = services.preview_change(
            services.current_subscription(org), catalog_plan(form.plan.data), form.interval.data
        )
    except DomainError as error:
        if error.code == "subscription_past_due":  # the preview says why and offers no Confirm
            return _page(org, refusal=error.message, change_form=form, status=409)
        apply_error(form, error, field="plan")
        return _page(org, change_form=form, status=422)
    return _page(org, preview=result, change_form=form)


def _show_url(org) -> str:
    return url_for("subscriptions.show", slug=org.slug)


def _refused(org):
    """``failed=`` for a button on the page: the refusal as a flash on the page again, with its status."""

    def page(error):
        flash(error.message, "error")
        return _page(org, status=error.status)

    return page


@bp.post("/change")
@org_view("billing")
def change(org):
    form = ChangePlanForm()
    form.plan.choices = _plan_choices(include_custom=True)
    if not form.validate_on_submit():
        return _page(org, change_form=form, status=422)

    def changed(result):
        when = "now" if result.immediate else f"on {result.effective_at:%Y-%m-%d}"
        return f"Your plan changes to {result.plan.name} ({result.interval.lower()}) {when}."

    return perform(
        lambda: services.change_plan(
            services.current_subscription(org, lock=True),
            catalog_plan(form.plan.data),
            form.interval.data,
            request_user(),
        ),
        then=_show_url(org),
        success=changed,
        form=form,
        field="plan",
        failed=lambda _: _page(org, change_form=form, status=422),
    )


def _simple(org, action, message):
    form = EmptyForm()
    if not form.validate_on_submit():
        flash("The form expired. Send it again.", "error")
        return redirect(_show_url(org))
    return perform(
        lambda: action(services.current_subscription(org, lock=True), request_user()),
        then=_show_url(org),
        success=message,
        failed=_refused(org),
    )


@bp.post("/cancel")
@org_view("billing")
def cancel(org):
    return _simple(org, services.cancel_at_period_end, "Your subscription will end at the end of this period.")


@bp.post("/resume")
@org_view("billing")
def resume(org):
    return _simple(org, services.resume, "Your subscription will continue.")


@bp.post("/unschedule")
@org_view("billing")
def unschedule(org):
    return _simple(org, services.cancel_scheduled_change, "The scheduled change is cancelled.")


@bp.post("/promotion-code")
@org_view("billing")
def promotion_code(org):
    form = PromotionCodeForm()
    if not form.validate_on_submit():
        return _page(org, code_form=form, status=422)
    return perform(
        lambda: coupons.redeem_promotion_code(
            org, services.current_subscription(org, lock=True), form.code.data, request_user()
        ),
        then=_show_url(org),
        success=lambda d: f"The code {d.promotion_code.code} is applied: {coupons.describe_coupon(d.coupon)}.",
        form=form,
        field="code",
        failed=lambda _: _page(org, code_form=form, status=422),
    )


@bp.post("/trial")
@org_view("billing")
def trial(org):
    form = TrialForm()
    form.plan.choices = _plan_choices()
    if not form.validate_on_submit():
        return _page(org, trial_form=form, status=422)
    return perform(
        lambda: services.start_trial(org, catalog_plan(form.plan.data), request_user()),
        then=_show_url(org),
        success=lambda sub: f"Your {sub.plan.name} trial runs until {sub.trial_end:%Y-%m-%d}.",
        form=form,
        field="plan",
        failed=lambda _: _page(org, trial_form=form, status=422),
    )


@bp.post("/pay")
@org_view("billing")
def pay(org):
    form = PayTrialForm()
    if not form.validate_on_submit():
        return _page(org, status=422)
    return perform(
        lambda: services.pay_to_keep_trial_plan(
            services.current_subscription(org, lock=True), request_user(), form.interval.data
        ),
        then=_show_url(org),
        success="The first invoice is issued. Pay it to keep your plan after the trial.",
        failed=_refused(org),
    )


def request_user():
    return current_user.user
