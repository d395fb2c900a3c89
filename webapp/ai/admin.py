"""Staff: prompt templates per AI service, credit bonuses and adjustments."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.ai import admin_bp, credits
from webapp.ai.forms import AdjustForm, PromptForm
from webapp.ai.models import SERVICES, AiCreditTransaction, AiPromptTemplate
from webapp.ai.prompts import seed_defaults, update_prompt
from webapp.core.htmx import render
from webapp.core.transaction import perform, side_write
from webapp.extensions import db
from webapp.orgs.models import Organization


@admin_bp.get("/ai-prompts")
def prompts():
    with side_write("seeds the default prompt templates that are missing (idempotent)") as conn:
        seed_defaults(conn)
    rows = db.session.scalars(select(AiPromptTemplate).order_by(AiPromptTemplate.service, AiPromptTemplate.key)).all()
    by_service = {s: [r for r in rows if r.service == s] for s in SERVICES}
    return render("ai/admin_prompts.html", by_service=by_service)


@admin_bp.route("/ai-prompts/<int:prompt_id>", methods=["GET", "POST"])
def prompt(prompt_id: int):
    row = db.get_or_404(AiPromptTemplate, prompt_id)
    form = PromptForm(obj=row)

    def page(_=None):
        return render("ai/admin_prompt.html", prompt=row, form=form, status=422 if form.errors else 200)

    if not form.validate_on_submit():
        return page()
    return perform(
        lambda: update_prompt(
            row,
            current_user.user,
            name=form.name.data,
            system_prompt=form.system_prompt.data,
            user_template=form.user_template.data,
            max_tokens=form.max_tokens.data,
            is_active=form.is_active.data,
        ),
        then=url_for("ai_admin.prompts"),
        success="Prompt saved.",
        form=form,
        failed=page,
    )


@admin_bp.route("/ai-credits", methods=["GET", "POST"], endpoint="credits")
def credits_page():
    form = AdjustForm()

    def page(_=None):
        return _credits_page(form)

    if not form.validate_on_submit():
        return page()
    org = db.session.scalar(select(Organization).where(Organization.slug == form.org_slug.data.strip()))
    if org is None:
        form.org_slug.errors = ["There is no organization at that address."]
        return page()
    return perform(
        lambda: credits.adjust(org, current_user.user, form.amount.data, form.type.data, form.reason.data),
        then=url_for("ai_admin.credits"),
        success=f"{form.amount.data:+,} credits for {org.name}.",
        form=form,
        field="amount",
        failed=page,
    )


def _credits_page(form):
    recent = db.session.scalars(
        select(AiCreditTransaction)
        .where(AiCreditTransaction.type.in_(("BONUS", "ADMIN_ADJUSTMENT", "PURCHASE")))
        .order_by(AiCreditTransaction.id.desc())
        .limit(50)
    ).all()
    orgs = {
        o.id: o
        for o in db.session.scalars(
            select(Organization).where(Organization.id.in_({t.organization_id for t in recent} or {0}))
        )
    }
    return render("ai/admin_credits.html", form=form, recent=recent, orgs=orgs, status=422 if form.errors else 200)
