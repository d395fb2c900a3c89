from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp.auth import bp
from webapp.auth import services as accounts
from webapp.auth.forms import LoginForm, ResetForm, ResetRequestForm, SignupForm, TotpForm
from webapp.core.errors import DomainError
from webapp.core.forms import apply_error
from webapp.core.htmx import render
from webapp.extensions import db, limiter

PENDING_2FA = "pending_2fa_user"


def _ip_limit():
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def _account_limit():
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def _login_email() -> str:
    return "login:" + (request.form.get("email") or str(session.get(PENDING_2FA, ""))).strip().lower()


def _failed(response) -> bool:
    """Per-account limits count failed attempts only, so a right password never locks anyone out."""
    return response.status_code != 303


def _finish_login(user):
    signed_in = accounts.start_session(user, request.remote_addr, request.user_agent.string)
    db.session.commit()
    login_user(signed_in)
    session.pop(PENDING_2FA, None)
    return redirect(accounts.safe_next(request.args.get("next"), url_for("orgs.home")), code=303)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def signup():
    form = SignupForm(email=request.args.get("email", ""))
    if form.validate_on_submit():
        try:
            user = accounts.sign_up(form.email.data, form.password.data, form.name.data or "")
        except DomainError as error:
            apply_error(form, error)
        else:
            db.session.commit()
            flash("Welcome! We sent you a link to confirm your e-mail address.", "success")
            return _finish_login(user)
    return render("auth/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_login_email, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(accounts.safe_next(request.args.get("next"), url_for("orgs.home")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except DomainError as error:
            db.session.commit()  # keep the failed-attempt audit entry
            apply_error(form, error, field="password")
        else:
            if user.totp_enabled:
                session[PENDING_2FA] = user.id
                return redirect(url_for("auth.second_factor", next=request.args.get("next")), code=303)
            return _finish_login(user)
    return render("auth/login.html", form=form)


@bp.route("/login/2fa", methods=["GET", "POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_login_email, deduct_when=_failed)
def second_factor():
    from webapp.auth.models import User

    user = db.session.get(User, session.get(PENDING_2FA) or 0)
    if user is None or user.is_suspended:
        return redirect(url_for("auth.login"))
    form = TotpForm()
    if form.validate_on_submit():
        try:
            accounts.check_second_factor(user, form.code.data)
        except DomainError as error:
            db.session.commit()  # keep the failed-attempt audit entry
            apply_error(form, error)
        else:
            return _finish_login(user)
    return render("auth/second_factor.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    accounts.log_out(current_user.user, current_user.session)
    db.session.commit()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"), code=303)


@bp.get("/verify/<token>")
def verify_email(token):
    try:
        accounts.verify_email(token)
    except DomainError as error:
        return render("auth/token_problem.html", message=error.message, status=400)
    db.session.commit()
    flash("Your e-mail address is confirmed.", "success")
    return redirect(url_for("orgs.home") if current_user.is_authenticated else url_for("auth.login"), code=303)


@bp.post("/verify/resend")
@login_required
@limiter.limit("3/hour")
def resend_verification():
    accounts.resend_verification(current_user.user)
    db.session.commit()
    flash("We sent a new confirmation link.", "info")
    return redirect(url_for("account.profile"), code=303)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        db.session.commit()
        flash("If that address has an account, a reset link is on its way.", "info")
        return redirect(url_for("auth.login"), code=303)
    return render("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    form = ResetForm()
    if request.method == "GET":
        try:
            accounts.check_token(token, accounts.RESET)
        except DomainError as error:
            return render("auth/token_problem.html", message=error.message, status=400)
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except DomainError as error:
            if error.field:
                apply_error(form, error)
            else:
                return render("auth/token_problem.html", message=error.message, status=400)
        else:
            db.session.commit()
            logout_user()
            flash("Your password is changed. Log in with the new one.", "success")
            return redirect(url_for("auth.login"), code=303)
    return render("auth/reset.html", form=form)
