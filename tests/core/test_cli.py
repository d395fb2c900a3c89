"""``flask users create-staff EMAIL`` prompts for the password twice."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_user
from webapp.audit.models import AuditEntry
from webapp.auth.models import User
from webapp.extensions import db

PASSWORD = "a long staff password"


def _user(email):
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_create_staff_prompts_for_a_password_and_the_staff_member_can_log_in(app, client):
    result = app.test_cli_runner().invoke(
        args=["users", "create-staff", "Boss@Example.com", "--name", "Boss"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output and "Repeat for confirmation:" in result.output
    assert PASSWORD not in result.output
    assert "boss@example.com is staff" in result.output
    with app.app_context():
        user = _user("boss@example.com")
        assert user.is_staff and user.is_verified and user.name == "Boss"
        actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.entity_id == user.id))]
        assert "user.made_staff" in actions
    client.login("boss@example.com", PASSWORD)
    assert client.get("/admin/").status_code == 200


def test_create_staff_refuses_a_mismatch_or_a_weak_password(app):
    runner = app.test_cli_runner()
    mismatch = runner.invoke(args=["users", "create-staff", "x@example.com"], input=f"{PASSWORD}\nother password 123\n")
    assert "do not match" in mismatch.output.lower() and mismatch.exit_code != 0
    weak = runner.invoke(args=["users", "create-staff", "y@example.com"], input="short\nshort\n")
    assert weak.exit_code == 1 and "Use at least 10 characters." in weak.output
    with app.app_context():
        assert _user("x@example.com") is None and _user("y@example.com") is None


def test_create_staff_promotes_an_existing_user_and_sets_the_password(app, client):
    with app.app_context():
        make_user("promote@example.com")
    result = app.test_cli_runner().invoke(
        args=["users", "create-staff", "promote@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _user("promote@example.com").is_staff
    client.login("promote@example.com", PASSWORD)
    assert client.get("/admin/users").status_code == 200
