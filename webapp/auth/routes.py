from flask import current_app, flash, request, session, url_for
from flask import redirect as flask_redirect
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from webapp.auth import bp
from webapp.auth import services as accounts
from webapp.auth.forms import LoginForm, ResetForm, ResetRequestForm, SignupForm, TotpForm
from webapp.core.errors import DomainError
from webapp.core.forms import apply_error
from webapp.core.htmx import redirect, render
from webapp.core.transaction import get_may_write, perform
from webapp.extensions import db, limiter

PENDING_2FA = "pending_2fa_user"


def _ip_limit():
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def _account_limit():
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def _account_and_source() -> str:
    """Failures count per account *and* source address: a stranger elsewhere cannot lock the owner out."""
    account = (request.form.get("email") or str(session.get(PENDING_2FA, ""))).strip().lower()
    return f"login:{account}:{request.remote_addr}"


def _failed(response) -> bool:
    """Per-account limits count failed attempts only, so a right password never locks anyone out."""
    return response.status_code != 303


def _next_page() -> str:
    """Where a sign-in lands without a ``next``: staff on the console, everyone else in their organization."""
    return accounts.safe_next(request.args.get("next"), accounts.landing_url(current_user))


def _signed_in(signed_in):
    """After the commit: the browser carries the new session."""
    login_user(signed_in)
    session.pop(PENDING_2FA, None)
    return redirect(_next_page())


def _start_session(user):
    return accounts.start_session(user, request.remote_addr, request.user_agent.string)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def signup():
    form = SignupForm(email=request.args.get("email", ""))
    if not form.validate_on_submit():
        return render("auth/signup.html", form=form)

    def sign_up():
        user = accounts.sign_up(form.email.data, form.password.data, form.name.data or "")
        return _start_session(user)

    return perform(
        sign_up,
        then=_signed_in,
        success=gettext("Welcome! We sent you a link to confirm your e-mail address."),
        form=form,
        failed=lambda _: render("auth/signup.html", form=form),
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_account_and_source, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return flask_redirect(_next_page())
    form = LoginForm()
    if not form.validate_on_submit():
        return render("auth/login.html", form=form)

    def password_step():
        user = accounts.authenticate(form.email.data, form.password.data, request.remote_addr)
        if user is None or user.totp_enabled:
            return user
        return _start_session(user)

    def answer(outcome):
        if outcome is None:  # the failure is recorded and committed; the form says so
            apply_error(form, DomainError(gettext(accounts.INVALID_CREDENTIALS)), field="password")
            return render("auth/login.html", form=form)
        if not isinstance(outcome, accounts.SessionUser):
            session[PENDING_2FA] = outcome.id
            return redirect(url_for("auth.second_factor", next=request.args.get("next")))
        return _signed_in(outcome)

    return perform(
        password_step,
        then=answer,
        form=form,
        field="password",
        failed=lambda _: render("auth/login.html", form=form),
        retry=False,
    )


@bp.route("/login/2fa", methods=["GET", "POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_account_and_source, deduct_when=_failed)
def second_factor():
    from webapp.auth.models import User

    user = db.session.get(User, session.get(PENDING_2FA) or 0)
    if user is None or user.is_suspended or not user.totp_enabled:
        return flask_redirect(url_for("auth.login"))
    form = TotpForm()
    if not form.validate_on_submit():
        return render("auth/second_factor.html", form=form)

    def code_step():
        if not accounts.check_second_factor(user, form.code.data, request.remote_addr):
            return None
        return _start_session(user)

    def answer(signed_in):
        if signed_in is None:
            apply_error(form, DomainError(gettext("That code is not right.")), field="code")
            return render("auth/second_factor.html", form=form)
        return _signed_in(signed_in)

    return perform(code_step, then=answer, retry=False)


@bp.post("/logout")
@login_required
def logout():
    def signed_out(_):
        logout_user()
        flash(gettext("You are logged out."), "info")
        return redirect(url_for("auth.login"))

    return perform(lambda: accounts.log_out(current_user.user, current_user.session), then=signed_out)


def _token_problem(error: DomainError):
    return render("auth/token_problem.html", message=error.message, status=400)


@bp.get("/verify/<token>")
@get_may_write("uses up the one-time verification link")
def verify_email(token):
    return perform(
        lambda: accounts.verify_email(token),
        then=lambda _: redirect(url_for("orgs.home") if current_user.is_authenticated else url_for("auth.login")),
        success=gettext("Your e-mail address is confirmed."),
        failed=_token_problem,
    )


@bp.post("/verify/resend")
@login_required
@limiter.limit("3/hour")
def resend_verification():
    return perform(
        lambda: accounts.resend_verification(current_user.user),
        then=url_for("account.profile"),
        success=gettext("We sent a new confirmation link."),
    )


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def request_reset():
    form = ResetRequestForm()
    if not form.validate_on_submit():
        return render("auth/reset_request.html", form=form)
    return perform(
        lambda: accounts.request_password_reset(form.email.data),
        then=url_for("auth.login"),
        success=gettext("If that address has an account, a reset link is on its way."),
    )


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    form = ResetForm()
    if request.method == "GET":
        try:
            accounts.check_token(token, accounts.RESET)
        except DomainError as error:
            return _token_problem(error)
    if not form.validate_on_submit():
        return render("auth/reset.html", form=form)

    def refused(error: DomainError):
        if error.field:
            apply_error(form, error)
            return render("auth/reset.html", form=form)
        return _token_problem(error)

    def changed(_):
        logout_user()
        return redirect(url_for("auth.login"))

    return perform(
        lambda: accounts.reset_password(token, form.password.data),
        then=changed,
        success=gettext("Your password is changed. Log in with the new one."),
        failed=refused,
    )
