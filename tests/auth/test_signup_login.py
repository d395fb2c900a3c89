from sqlalchemy import select

from tests.factories import PASSWORD, make_user
from webapp.auth.models import User
from webapp.extensions import db
from webapp.orgs.models import Membership


def test_signup_creates_personal_org_and_sends_verification(client, ctx, mailbox, run_jobs):
    response = client.post("/auth/signup", {"name": "Rudo", "email": "Rudo@Example.com", "password": PASSWORD})
    assert response.status_code == 303
    run_jobs()
    user = db.session.scalar(select(User).where(User.email == "rudo@example.com"))
    assert user is not None and not user.is_verified
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    assert membership.role == "OWNER" and membership.organization.is_personal

    link = mailbox.link("rudo@example.com")
    assert "/auth/verify/" in link
    assert client.get(link).status_code == 303
    db.session.refresh(user)
    assert user.is_verified
    # the link is single-use
    again = client.get(link)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)


def test_signup_refuses_duplicate_email_and_short_password(client, ctx):
    make_user("taken@example.com")
    taken = client.post("/auth/signup", {"email": "TAKEN@example.com", "password": PASSWORD})
    assert taken.status_code == 200 and "already exists" in taken.get_data(as_text=True)
    short = client.post("/auth/signup", {"email": "new@example.com", "password": "short"})
    assert short.status_code == 200 and "at least 10" in short.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "new@example.com")) is None


def test_login_logout_and_wrong_password(client, ctx):
    make_user("ana@example.com")
    wrong = client.post("/auth/login", {"email": "ana@example.com", "password": "nope-nope-nope"})
    assert "not right" in wrong.get_data(as_text=True)
    client.login("ana@example.com")
    assert client.get("/account/").status_code == 200
    client.post("/auth/logout")
    assert client.get("/account/").status_code == 302
