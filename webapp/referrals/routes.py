from flask import abort, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from webapp.core.access import org_view, role_allows
from webapp.core.htmx import render
from webapp.core.money import format_amount, parse_amount
from webapp.core.transaction import get_may_write, perform
from webapp.extensions import db, limiter
from webapp.orgs.services import memberships_of
from webapp.referrals import bp, public_bp
from webapp.referrals import services as referrals
from webapp.referrals.events import COOKIE, cookie_value
from webapp.referrals.forms import InviteForm, MessageForm, PayoutForm, SlugForm
from webapp.referrals.models import Referral
from webapp.settings import get


def _payout_form(form=None) -> PayoutForm:
    form = form or PayoutForm()
    form.organization_id.choices = [
        SelectChoice(str(m.organization_id), m.organization.name)
        for m in memberships_of(current_user.id)
        if role_allows(m.role, "billing")
    ]
    return form


def _page(org, status=200, **forms):
    program = referrals.program_of(current_user.user)
    context = {"org": org, "program": program, "status": status}
    if program is not None:
        context |= {
            "stats": referrals.statistics(program),
            "charts": referrals.weekly_charts(program),
            "referrals": db.session.scalars(
                db.select(Referral).where(Referral.program_id == program.id).order_by(Referral.id.desc()).limit(100)
            ).all(),
            "payouts": sorted(program_payouts(program), key=lambda p: p.id, reverse=True),
            "link": url_for("referrals_public.follow", code=program.public_code, _external=True),
        }
    forms = {
        "invite_form": InviteForm(),
        "slug_form": SlugForm(),
        "message_form": MessageForm(obj=program),
        "payout_form": _payout_form(),
        **forms,
    }
    return render("referrals/index.html", minimum=get("referrals.payout_minimum_cents"), **context, **forms)


def program_payouts(program):
    from webapp.referrals.models import ReferralPayout

    return db.session.scalars(db.select(ReferralPayout).where(ReferralPayout.program_id == program.id)).all()


def _program_or_404():
    program = referrals.program_of(current_user.user)
    if program is None:
        abort(404)
    return program


@bp.get("/")
@org_view("referrals")
def index(org):
    return _page(org)


@bp.post("/open")
@org_view("referrals")
def open_program(org):
    return perform(
        lambda: referrals.open_program(current_user.user),
        then=url_for("referrals.index", slug=org.slug),
        success=_("Your referral link is ready."),
    )


@bp.post("/link")
@org_view("referrals")
def custom_link(org):
    form = SlugForm()
    if not form.validate_on_submit():
        return _page(org, status=422, slug_form=form)
    return perform(
        lambda: referrals.set_custom_slug(_program_or_404(), current_user.user, form.slug.data),
        then=url_for("referrals.index", slug=org.slug),
        success=_("Your custom link is saved."),
        form=form,
        field="slug",
        failed=lambda _: _page(org, status=422, slug_form=form),
    )


@bp.post("/message")
@org_view("referrals")
def message(org):
    form = MessageForm()
    if not form.validate_on_submit():
        return _page(org, status=422, message_form=form)
    return perform(
        lambda: referrals.update_message(_program_or_404(), current_user.user, form.message.data),
        then=url_for("referrals.index", slug=org.slug),
        success=_("Message saved."),
        form=form,
        field="message",
        failed=lambda _: _page(org, status=422, message_form=form),
    )


@bp.post("/invite")
@org_view("referrals")
@limiter.limit("30/hour")
def invite(org):
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(org, status=422, invite_form=form)
    return perform(
        lambda: referrals.invite_by_email(_program_or_404(), current_user.user, form.email.data),
        then=url_for("referrals.index", slug=org.slug),
        success=_("We sent your link to %(email)s.", email=form.email.data),
        form=form,
        field="email",
        failed=lambda _: _page(org, status=422, invite_form=form),
    )


@bp.post("/payouts")
@org_view("referrals")
def request_payout(org):
    form = _payout_form(PayoutForm())
    if not form.validate_on_submit():
        return _page(org, status=422, payout_form=form)
    try:
        amount = parse_amount(form.amount.data)
    except ValueError as error:
        form.amount.errors = [str(error)]
        return _page(org, status=422, payout_form=form)
    return perform(
        lambda: referrals.request_payout(_program_or_404(), current_user.user, amount, form.method.data, form.data),
        then=url_for("referrals.index", slug=org.slug),
        success=_("Payout requested."),
        form=form,
        field="amount",
        failed=lambda _: _page(org, status=422, payout_form=form),
    )


@bp.post("/payouts/<int:payout_id>/cancel")
@org_view("referrals")
def cancel_payout(org, payout_id):
    # The service locks the payout row and checks it is the member's own (else 404).
    return perform(
        lambda: referrals.cancel_payout(payout_id, current_user.user),
        then=url_for("referrals.index", slug=org.slug),
        success=lambda payout: _(
            "Payout #%(id)s canceled; %(amount)s is available again.",
            id=payout.id,
            amount=format_amount(payout.amount, payout.currency),
        ),
    )


@public_bp.get("/r/<code>")
@limiter.limit("120/minute")
@get_may_write("records the referral click (the link is followed with a GET)")
def follow(code):
    program = referrals.find_program(code)
    if program is None:
        abort(404)
    return perform(
        lambda: referrals.record_click(
            program,
            source=request.args.get("utm_source"),
            campaign=request.args.get("utm_campaign"),
            ip=request.remote_addr,
            user_agent=request.user_agent.string,
        ),
        then=lambda click: _landing(program, click),
        failed=lambda _: abort(404),
    )


def _landing(program, click):
    response = make_response(render("referrals/landing.html", program=program, referrer=program.user))
    response.set_cookie(
        COOKIE,
        cookie_value(program.public_code, click.id),
        max_age=get("referrals.cookie_days") * 86400,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response
