"""AI pages: credits and usage (/o/<slug>/ai), the chat assistant, caption suggestions for the studio."""

from __future__ import annotations

from datetime import timedelta

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from webapp.ai import bp, credits
from webapp.ai import services as ai
from webapp.ai.forms import CaptionForm, ChatForm, PurchaseForm
from webapp.ai.models import SERVICES, AiCreditPurchase, AiCreditTransaction, AiUsageLog
from webapp.ai.results import CAPTION, keep_result, kept_result
from webapp.core.access import can, org_view
from webapp.core.charts import HBAR, Chart, Point
from webapp.core.display import count, label
from webapp.core.htmx import is_htmx, redirect, render
from webapp.core.models import utcnow
from webapp.core.pagination import keyset
from webapp.core.transaction import perform
from webapp.extensions import db


def usage_by_service(org, days: int = 30) -> Chart:
    """Credits used per service over the last ``days``, every service listed (a zero is a reading);
    nothing used at all shows the empty state."""
    since = utcnow() - timedelta(days=days)
    rows = dict(
        db.session.execute(
            select(AiUsageLog.service, func.coalesce(func.sum(AiUsageLog.credits_used), 0))
            .where(AiUsageLog.organization_id == org.id, AiUsageLog.created_at >= since)
            .group_by(AiUsageLog.service)
        ).all()
    )
    return Chart(
        id="chart-ai-by-service",
        title=_("Credits used by service in the last %(days)s days", days=days),
        points=[Point(label(s), int(rows.get(s, 0))) for s in SERVICES],
        kind=HBAR,
        noun=_("credits"),
        label_heading=_("Service"),
        value_heading=_("Credits used"),
        zero_is_empty=True,
        empty_text=_("No credits used in the last %(days)s days.", days=days),
    )


def _page(org, purchase_form=None, status=200):
    from flask import request

    balance = credits.balance_of(org)
    transactions = keyset(
        select(AiCreditTransaction).where(AiCreditTransaction.organization_id == org.id),
        AiCreditTransaction.id,
        request.args.get("before", type=int),
        per_page=25,
    )
    usage = db.session.scalars(
        select(AiUsageLog).where(AiUsageLog.organization_id == org.id).order_by(AiUsageLog.id.desc()).limit(25)
    ).all()
    purchases = db.session.scalars(
        select(AiCreditPurchase)
        .where(AiCreditPurchase.organization_id == org.id)
        .order_by(AiCreditPurchase.id.desc())
        .limit(10)
    ).all()
    return render(
        "ai/index.html",
        org=org,
        balance=balance,
        transactions=transactions,
        usage=usage,
        service_chart=usage_by_service(org),
        purchases=purchases,
        purchase_form=purchase_form or PurchaseForm(),
        pack_size=credits.get("ai.credit_pack_size"),
        pack_price=credits.get("ai.credit_pack_price_cents"),
        status=status,
    )


@bp.get("/")
@org_view("ai")
def index(org):
    return _page(org)


@bp.post("/purchase")
@org_view("billing")
def purchase(org):
    form = PurchaseForm()
    if not form.validate_on_submit():
        return _page(org, purchase_form=form, status=422)
    return perform(
        lambda: credits.purchase_packs(org, current_user.user, form.packs.data),
        then=url_for("ai.index", slug=org.slug),
        success=lambda bought: _(
            "Invoice issued for %(credits)s credits; they arrive as soon as it is paid.", credits=count(bought.credits)
        ),
        form=form,
        field="packs",
        failed=lambda _: _page(org, purchase_form=form, status=422),
    )


@bp.route("/chat", methods=["GET", "POST"])
@org_view("ai")
def chat(org):
    form = ChatForm()

    def page(_=None):
        return render(
            "ai/chat.html",
            block="conversation",
            org=org,
            form=form,
            balance=credits.balance_of(org),
            messages=ai.conversation(org, current_user.user),
            status=422 if form.errors else 200,
        )

    if not form.validate_on_submit():
        return page()
    # The provider is asked once even if the transaction is retried (ask remembers its answer); the
    # charge and the stored messages commit together, and a refusal or failure leaves neither.
    return perform(
        lambda: ai.chat(org, current_user.user, form.question.data),
        then=url_for("ai.chat", slug=org.slug),
        form=form,
        field="question",
        failed=page,
    )


@bp.route("/caption-suggestions", methods=["GET", "POST"])
@org_view("studio")
def caption_suggestions(org):
    """A fragment the studio page includes: hx-post title (and topic) here, get a caption and hashtags.

    The answer is kept (``webapp.ai.results``): without htmx the POST redirects to a GET that shows it,
    so a reload never asks the AI again."""
    form = CaptionForm()

    def fragment(suggestion=None):
        return render(
            "ai/_caption_suggestions.html",
            org=org,
            form=form,
            suggestion=suggestion,
            status=422 if form.errors else 200,
        )

    if request.method == "GET":
        return fragment(kept_result(org, current_user.user, CAPTION, request.args.get("result")))
    if not (form.validate_on_submit() and can("ai")):
        return fragment()

    def shown(kept):
        if is_htmx():  # the region swaps in place; the page's own URL stays a plain GET
            return fragment(kept.payload)
        return redirect(url_for("ai.caption_suggestions", slug=org.slug, result=kept.id))

    return perform(
        lambda: keep_result(
            org,
            current_user.user,
            CAPTION,
            ai.suggest_caption(org, current_user.user, form.title.data, form.topic.data or ""),
        ),
        then=shown,
        form=form,
        field="title",
        failed=lambda _: fragment(),
    )
