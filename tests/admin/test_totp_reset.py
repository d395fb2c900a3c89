"""Issue 13, point 6: staff reset a user's second factor from the console (a lost phone and no
recovery code left): audited, e-mailed to the user, staff only, CSRF-protected, once."""

from __future__ import annotations

import pyotp
from sqlalchemy import func, select

from tests.factories import PASSWORD, make_user
from webapp.audit.models import AuditEntry
from webapp.auth import services as accounts
from webapp.auth.models import RecoveryCode, User
from webapp.extensions import db


def _user_with_totp(app, email: str) -> int:
    with app.app_context():
        user = make_user(email)
        secret = accounts.begin_totp(user)
        accounts.enable_totp(user, pyotp.TOTP(secret).now())
        db.session.commit()
        return user.id


def _resets(app) -> list[AuditEntry]:
    with app.app_context():
        stmt = select(AuditEntry).where(AuditEntry.action == "user.totp_reset_by_staff").order_by(AuditEntry.id)
        return list(db.session.scalars(stmt))


def test_staff_reset_the_second_factor_audited_and_emailed(app, client, make_client, mailbox, run_jobs):
    with app.app_context():
        staff_id = make_user("ops@example.com", staff=True).id
    user_id = _user_with_totp(app, "lost.phone@example.com")
    client.login("ops@example.com")

    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "Reset two-factor sign-in" in page and f'action="/admin/users/{user_id}/totp-reset"' in page

    # without the form's token nothing happens
    assert client.post(f"/admin/users/{user_id}/totp-reset", {"reason": "x"}, csrf=False).status_code == 400
    assert _resets(app) == []

    mailbox.clear()
    done = client.post(f"/admin/users/{user_id}/totp-reset", {"reason": "Lost phone; identity checked by call"})
    assert done.status_code == 303 and done.headers["Location"] == f"/admin/users/{user_id}"
    assert "Two-factor sign-in is off for lost.phone@example.com" in client.get(done.headers["Location"]).get_data(
        as_text=True
    )
    (entry,) = _resets(app)
    assert entry.actor_id == staff_id and entry.entity_id == user_id
    assert entry.details == {"reason": "Lost phone; identity checked by call"}
    with app.app_context():
        user = db.session.get(User, user_id)
        assert not user.totp_enabled and user.totp_secret_ciphertext is None
        assert db.session.scalar(select(func.count()).where(RecoveryCode.user_id == user_id)) == 0

    run_jobs()
    message = mailbox.last_to("lost.phone@example.com")
    assert message["Subject"] == "Two-factor sign-in was turned off on your Tessera account"
    assert "Lost phone; identity checked by call" in mailbox.text(message)

    # the password alone signs in now
    signed_in = make_client().post("/auth/login", {"email": "lost.phone@example.com", "password": PASSWORD})
    assert signed_in.status_code == 303 and not signed_in.headers["Location"].startswith("/auth/login/2fa")

    # a second press (a double submit, another staff member) is refused and changes nothing
    again = client.post(f"/admin/users/{user_id}/totp-reset", {"reason": "again"})
    assert again.status_code == 422 and "no second factor to reset" in again.get_data(as_text=True)
    assert len(_resets(app)) == 1
    assert client.post("/admin/users/999999/totp-reset", {"reason": ""}).status_code == 404
    too_long = _user_with_totp(app, "verbose@example.com")
    refused = client.post(f"/admin/users/{too_long}/totp-reset", {"reason": "x" * 501})
    assert refused.status_code == 422 and len(_resets(app)) == 1


def test_customers_cannot_reset_anyones_second_factor(app, make_client):
    user_id = _user_with_totp(app, "target@example.com")
    with app.app_context():
        make_user("customer@example.com")
    customer = make_client()
    customer.login("customer@example.com")
    assert customer.post(f"/admin/users/{user_id}/totp-reset", {"reason": "mine now"}).status_code == 404
    anonymous = make_client().post(f"/admin/users/{user_id}/totp-reset", {"reason": "x"})
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/auth/login")
    assert _resets(app) == []
    with app.app_context():
        assert db.session.get(User, user_id).totp_enabled
