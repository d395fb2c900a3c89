"""Staff: prompt templates per AI service, credit bonuses and adjustments."""

from __future__ import annotations

from flask import flash, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.ai import admin_bp, credits
from webapp.ai.forms import AdjustForm, PromptForm
from webapp.ai.models import SERVICES, AiCreditTransaction, AiPromptTemplate
from webapp.ai.prompts import ensure_defaults, update_prompt
from webapp.core.errors import DomainError
from webapp.core.forms import apply_error
from webapp.core.htmx import redirect, render
from webapp.extensions import db
from webapp.orgs.models import Organization


@admin_bp.get("/ai-prompts")
def prompts():
    ensure_defaults()
    db.session.commit()
    rows = db.session.scalars(select(AiPromptTemplate).order_by(AiPromptTemplate.service, AiPromptTemplate.key)).all()
    by_service = {s: [r for r in rows if r.service == s] for s in SERVICES}
    return render("ai/admin_prompts.html", by_service=by_service)


@admin_bp.route("/ai-prompts/<int:prompt_id>", methods=["GET", "POST"])
def prompt(prompt_id: int):
    row = db.get_or_404(AiPromptTemplate, prompt_id)
    form = PromptForm(obj=row)
    if form.validate_on_submit():
        try:
            update_prompt(
                row,
                current_user.user,
                name=form.name.data,
                system_prompt=form.system_prompt.data,
                user_template=form.user_template.data,
                max_tokens=form.max_tokens.data,
                is_active=form.is_active.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_error(form, error)
        else:
            db.session.commit()
            flash("Prompt saved.", "success")
            return redirect(url_for("ai_admin.prompts"))
    return render("ai/admin_prompt.html", prompt=row, form=form, status=422 if form.errors else 200)


@admin_bp.route("/ai-credits", methods=["GET", "POST"], endpoint="credits")
def credits_page():
    form = AdjustForm()
    if form.validate_on_submit():
        org = db.session.scalar(select(Organization).where(Organization.slug == form.org_slug.data.strip()))
        if org is None:
            form.org_slug.errors = ["There is no organization at that address."]
        else:
            try:
                credits.adjust(org, current_user.user, form.amount.data, form.type.data, form.reason.data)
            except DomainError as error:
                db.session.rollback()
                apply_error(form, error, field="amount")
            else:
                db.session.commit()
                flash(f"{form.amount.data:+,} credits for {org.name}.", "success")
                return redirect(url_for("ai_admin.credits"))
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
