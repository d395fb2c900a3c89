from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from webapp.account import bp
from webapp.account.forms import DisableTotpForm, EnableTotpForm, PasswordForm, ProfileForm, RecoveryCodesForm
from webapp.auth import services as accounts
from webapp.core import reveal
from webapp.core.htmx import redirect, render
from webapp.core.transaction import perform
from webapp.files import branding
from webapp.files.forms import ImageForm


def _page(status=200, **forms):
    user = current_user.user
    context = {
        "profile_form": ProfileForm(obj=user),
        "password_form": PasswordForm(),
        "enable_form": EnableTotpForm(),
        "disable_form": DisableTotpForm(),
        "recovery_form": RecoveryCodesForm(prefix="recovery"),
        "avatar_form": ImageForm(prefix="avatar"),
        "recovery_codes": None,
        "recovery_codes_left": accounts.recovery_codes_left(user) if user.totp_enabled else None,
        "totp_uri": accounts.totp_uri(user) if user.totp_secret_ciphertext and not user.totp_enabled else None,
        **forms,
    }
    return render("account/profile.html", status=status, **context)


def _show_codes(codes):
    """The recovery codes, once: sealed in the session for the next page only (post-redirect-get)."""
    reveal.stash("recovery-codes", {"codes": list(codes)})
    return redirect(url_for("account.profile"))


@bp.get("/")
@login_required
def profile():
    shown = reveal.take("recovery-codes")
    return _page(recovery_codes=shown["codes"] if shown else None)


@bp.post("/profile")
@login_required
def update_profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _page(profile_form=form)
    return perform(
        lambda: accounts.update_profile(current_user.user, form.name.data or "", form.locale.data or None),
        then=url_for("account.profile"),
        success=_("Profile saved."),
    )


@bp.post("/password")
@login_required
def change_password():
    form = PasswordForm()
    if not form.validate_on_submit():
        return _page(password_form=form)
    return perform(
        lambda: accounts.change_password(
            current_user.user, form.current_password.data, form.new_password.data, current_user.session.id
        ),
        then=url_for("account.profile"),
        success="Password changed. Every other browser was logged out.",
        form=form,
        field="new_password",
        failed=lambda _: _page(password_form=form),
    )


@bp.post("/2fa/begin")
@login_required
def begin_totp():
    return perform(lambda: accounts.begin_totp(current_user.user), then=url_for("account.profile"))


@bp.post("/2fa/enable")
@login_required
def enable_totp():
    form = EnableTotpForm()
    if not form.validate_on_submit():
        return _page(enable_form=form)
    return perform(
        lambda: accounts.enable_totp(current_user.user, form.code.data),
        then=_show_codes,
        success="Two-factor sign-in is on. Keep your recovery codes somewhere safe.",
        form=form,
        failed=lambda _: _page(enable_form=form),
    )


@bp.post("/2fa/recovery-codes")
@login_required
def regenerate_recovery_codes():
    form = RecoveryCodesForm(prefix="recovery")
    if not form.validate_on_submit():
        return _page(recovery_form=form)
    return perform(
        lambda: accounts.regenerate_recovery_codes(current_user.user, form.password.data),
        then=_show_codes,
        success="New recovery codes; the earlier ones no longer work.",
        form=form,
        failed=lambda _: _page(recovery_form=form),
    )


@bp.post("/2fa/disable")
@login_required
def disable_totp():
    form = DisableTotpForm()
    if not form.validate_on_submit():
        return _page(disable_form=form)
    return perform(
        lambda: accounts.disable_totp(current_user.user, form.password.data),
        then=url_for("account.profile"),
        success="Two-factor sign-in is off.",
        form=form,
        failed=lambda _: _page(disable_form=form),
    )


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
    def revoked(session):
        if session.id == current_user.session.id:
            logout_user()
            return redirect(url_for("auth.login"))
        return redirect(url_for("account.sessions"))

    return perform(
        lambda: accounts.revoke_session(current_user.user, session_id),
        then=revoked,
        success="Session revoked; that browser is logged out.",
        failed=lambda _: render("errors/error.html", status=404, message="That session does not exist."),
    )


@bp.post("/avatar")
@login_required
def upload_avatar():
    form = ImageForm(prefix="avatar")
    if not form.validate_on_submit():
        return _page(status=422, avatar_form=form)
    return perform(
        lambda: branding.set_avatar(current_user.user, form.file.data.stream, form.crop()),
        then=url_for("account.profile"),
        success="Picture saved.",
        form=form,
        field="file",
        failed=lambda _: _page(status=422, avatar_form=form),
        retry=False,  # the upload's stream is read once
    )


@bp.post("/avatar/remove")
@login_required
def remove_avatar():
    return perform(
        lambda: branding.remove_avatar(current_user.user),
        then=url_for("account.profile"),
        success="Picture removed; your initials show instead.",
    )
