from flask import flash, redirect, url_for
from flask_login import current_user, login_required, logout_user

from webapp.account import bp
from webapp.account.forms import DisableTotpForm, EnableTotpForm, PasswordForm, ProfileForm
from webapp.auth import services as accounts
from webapp.core.errors import DomainError
from webapp.core.forms import apply_error
from webapp.core.htmx import render
from webapp.extensions import db


def _page(**forms):
    user = current_user.user
    context = {
        "profile_form": ProfileForm(obj=user),
        "password_form": PasswordForm(),
        "enable_form": EnableTotpForm(),
        "disable_form": DisableTotpForm(),
        "totp_uri": accounts.totp_uri(user) if user.totp_secret_ciphertext and not user.totp_enabled else None,
        **forms,
    }
    return render("account/profile.html", **context)


@bp.get("/")
@login_required
def profile():
    return _page()


@bp.post("/profile")
@login_required
def update_profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _page(profile_form=form)
    accounts.update_profile(current_user.user, form.name.data or "")
    db.session.commit()
    flash("Profile saved.", "success")
    return redirect(url_for("account.profile"), code=303)


@bp.post("/password")
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user.user, form.current_password.data, form.new_password.data, current_user.session.id
            )
        except DomainError as error:
            apply_error(form, error, field="new_password")
        else:
            db.session.commit()
            flash("Password changed. Every other browser was logged out.", "success")
            return redirect(url_for("account.profile"), code=303)
    return _page(password_form=form)


@bp.post("/2fa/begin")
@login_required
def begin_totp():
    accounts.begin_totp(current_user.user)
    db.session.commit()
    return redirect(url_for("account.profile"), code=303)


@bp.post("/2fa/enable")
@login_required
def enable_totp():
    form = EnableTotpForm()
    if form.validate_on_submit():
        try:
            accounts.enable_totp(current_user.user, form.code.data)
        except DomainError as error:
            apply_error(form, error)
        else:
            db.session.commit()
            flash("Two-factor sign-in is on.", "success")
            return redirect(url_for("account.profile"), code=303)
    return _page(enable_form=form)


@bp.post("/2fa/disable")
@login_required
def disable_totp():
    form = DisableTotpForm()
    if form.validate_on_submit():
        try:
            accounts.disable_totp(current_user.user, form.password.data)
        except DomainError as error:
            apply_error(form, error)
        else:
            db.session.commit()
            flash("Two-factor sign-in is off.", "info")
            return redirect(url_for("account.profile"), code=303)
    return _page(disable_form=form)


@bp.get("/sessions")
@login_required
def sessions():
    return render(
        "account/sessions.html",
        sessions=accounts.active_sessions(current_user.user),
        current_session_id=current_user.session.id,
    )


@bp.post("/sessions/<int:session_id>/revoke")
@login_required
def revoke_session(session_id):
    try:
        revoked = accounts.revoke_session(current_user.user, session_id)
    except DomainError:
        return render("errors/error.html", status=404, message="That session does not exist.")
    db.session.commit()
    if revoked.id == current_user.session.id:
        logout_user()
        return redirect(url_for("auth.login"), code=303)
    flash("Session revoked; that browser is logged out.", "success")
    return redirect(url_for("account.sessions"), code=303)
