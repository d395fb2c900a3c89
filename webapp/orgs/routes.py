from flask import flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from webapp.core.access import OWNER, org_object_or_404, org_view
from webapp.core.forms import EmptyForm
from webapp.core.htmx import render
from webapp.core.parsing import int_or_none
from webapp.core.transaction import perform
from webapp.orgs import bp
from webapp.orgs import services as orgs
from webapp.orgs.dashboard import panels_for
from webapp.orgs.forms import (
    ROLE_CHOICES,
    AddressForm,
    DeleteForm,
    InviteForm,
    OrganizationForm,
    OrganizationSettingsForm,
    RoleForm,
    TransferForm,
)
from webapp.orgs.models import Invitation, Membership

LAST_ORG = "last_org"


@bp.get("/o/")
@login_required
def home():
    memberships = orgs.memberships_of(current_user.id)
    slugs = {m.organization.slug for m in memberships}
    if session.get(LAST_ORG) in slugs:
        return redirect(url_for("orgs.dashboard", slug=session[LAST_ORG]))
    if memberships:
        return redirect(url_for("orgs.dashboard", slug=memberships[0].organization.slug))
    return redirect(url_for("orgs.create"))


@bp.route("/orgs/new", methods=["GET", "POST"])
@login_required
def create():
    form = OrganizationForm(email=current_user.email)
    if not form.validate_on_submit():
        return render("orgs/new.html", form=form, status=422 if form.is_submitted() else 200)
    return perform(
        lambda: orgs.create_organization(
            current_user.user, form.name.data, form.slug.data, form.email.data, form.country.data, form.timezone.data
        ),
        then=lambda org: redirect(url_for("orgs.dashboard", slug=org.slug), code=303),
        success=lambda org: f"{org.name} is ready.",
        form=form,
        failed=lambda _: render("orgs/new.html", form=form, status=422),
    )


@bp.get("/o/<slug>/")
@org_view("view")
def dashboard(org):
    session[LAST_ORG] = org.slug
    return render("orgs/dashboard.html", org=org, panels=panels_for(org), member_count=orgs.member_count(org))


def _members_page(org, invite_form=None, status=200):
    members = orgs.members_of(org)
    invitations = orgs.pending_invitations(org)
    invite_form = invite_form or InviteForm()
    if request_membership().role != OWNER:  # admins cannot make owners
        invite_form.role.choices = [c for c in ROLE_CHOICES if c.value != OWNER]
    transfer = TransferForm()
    transfer.member_id.choices = [
        SelectChoice(m.id, m.user.display_name) for m in members if m.user_id != current_user.id
    ]
    return render(
        "orgs/members.html",
        block="members",
        org=org,
        members=members,
        invitations=invitations,
        invite_form=invite_form,
        role_form=RoleForm(),
        transfer_form=transfer,
        button=EmptyForm(),
        status=status,
    )


@bp.get("/o/<slug>/members")
@org_view("members")
def members(org):
    return _members_page(org)


@bp.post("/o/<slug>/members/invite")
@org_view("members")
def invite(org):
    form = InviteForm()
    if not form.validate_on_submit():
        return _members_page(org, invite_form=form, status=422)
    return perform(
        lambda: orgs.invite_member(org, request_membership(), form.email.data, form.role.data),
        then=url_for("orgs.members", slug=org.slug),
        success=f"Invitation sent to {form.email.data}.",
        form=form,
        field="email",
        failed=lambda _: _members_page(org, invite_form=form, status=422),
    )


def request_membership() -> Membership:
    return g.membership


@bp.post("/o/<slug>/members/<int:membership_id>/role")
@org_view("members")
def change_role(org, membership_id):
    target = org_object_or_404(Membership, org, membership_id)
    form = RoleForm()
    members_url = url_for("orgs.members", slug=org.slug)
    if not form.validate_on_submit():
        flash("Choose a role from the list.", "error")
        return redirect(members_url, code=303)
    return perform(
        lambda: orgs.change_role(org, request_membership(), target, form.role.data),
        then=members_url,
        success=lambda _: f"{target.user.display_name} is now {target.role.title()}.",
    )


@bp.post("/o/<slug>/members/<int:membership_id>/remove")
@org_view("members")
def remove_member(org, membership_id):
    target = org_object_or_404(Membership, org, membership_id)
    return perform(
        lambda: orgs.remove_member(org, request_membership(), target),
        then=url_for("orgs.members", slug=org.slug),
        success=f"{target.user.display_name} was removed.",
    )


@bp.post("/o/<slug>/invitations/<int:invitation_id>/revoke")
@org_view("members")
def revoke_invitation(org, invitation_id):
    invitation = org_object_or_404(Invitation, org, invitation_id)
    return perform(
        lambda: orgs.revoke_invitation(org, current_user.user, invitation),
        then=url_for("orgs.members", slug=org.slug),
        success="Invitation revoked.",
    )


@bp.post("/o/<slug>/leave")
@org_view("view")
def leave(org):
    def left(_):
        session.pop(LAST_ORG, None)
        return redirect(url_for("orgs.home"), code=303)

    return perform(
        lambda: orgs.leave_organization(org, request_membership()),
        then=left,
        success=f"You left {org.name}.",
        failed=url_for("orgs.dashboard", slug=org.slug),
    )


@bp.post("/o/<slug>/transfer")
@org_view("owner")
def transfer(org):
    target = org_object_or_404(Membership, org, int_or_none(request.form.get("member_id")) or 0)
    return perform(
        lambda: orgs.transfer_ownership(org, request_membership(), target),
        then=url_for("orgs.members", slug=org.slug),
        success=f"{target.user.display_name} now owns {org.name}.",
    )


@bp.route("/o/<slug>/settings", methods=["GET", "POST"])
@org_view("owner")
def settings(org):
    form = OrganizationSettingsForm(obj=org)
    delete_form = DeleteForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render("orgs/settings.html", org=org, form=form, delete_form=delete_form, status=status)
    return perform(
        lambda: orgs.update_organization(
            org, current_user.user, form.name.data, form.email.data, form.country.data, form.timezone.data
        ),
        then=url_for("orgs.settings", slug=org.slug),
        success="Organization saved.",
        form=form,
        failed=lambda _: render("orgs/settings.html", org=org, form=form, delete_form=delete_form, status=422),
    )


@bp.route("/o/<slug>/settings/address", methods=["GET", "POST"])
@org_view("org_address")
def address(org):
    form = AddressForm(obj=org)

    def page(status=200):
        return render("orgs/address.html", org=org, form=form, status=status)

    if not form.validate_on_submit():
        return page(422 if form.is_submitted() else 200)
    return perform(
        lambda: orgs.update_address(
            org,
            current_user.user,
            address_line=form.address_line.data,
            postal_code=form.postal_code.data,
            city=form.city.data,
            country=form.country.data,
            phone=form.phone.data,
        ),
        then=url_for("orgs.address", slug=org.slug),
        success=_("Address saved. New invoices and PDFs print it."),
        form=form,
        failed=lambda _: page(422),
    )


@bp.post("/o/<slug>/delete")
@org_view("owner")
def delete(org):
    form = DeleteForm()

    def page(_=None):
        return render(
            "orgs/settings.html", org=org, form=OrganizationSettingsForm(obj=org), delete_form=form, status=422
        )

    def deleted(_):
        session.pop(LAST_ORG, None)
        return redirect(url_for("orgs.home"), code=303)

    if not form.validate_on_submit():
        return page()
    return perform(
        lambda: orgs.delete_organization(org, current_user.user, form.confirm_slug.data),
        then=deleted,
        success="The organization was deleted.",
        form=form,
        failed=page,
    )


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token):
    found = orgs.find_invitation(token)
    if request.method == "POST" and current_user.is_authenticated:
        return perform(
            lambda: orgs.accept_invitation(token, current_user.user),
            then=lambda joined: redirect(url_for("orgs.dashboard", slug=joined.organization.slug), code=303),
            success=lambda joined: f"You joined {joined.organization.name}.",
            failed=lambda error: render(
                "orgs/invitation.html", invitation=found, problem=error.message, form=EmptyForm(), status=400
            ),
        )
    problem = None
    if found is None or not found.is_pending:
        problem = "This invitation is not valid any more. Ask for a new one."
    return render(
        "orgs/invitation.html",
        invitation=found,
        problem=problem,
        form=EmptyForm(),
        token=token,
        status=400 if problem else 200,
    )
