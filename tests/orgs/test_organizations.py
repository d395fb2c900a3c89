"""Organizations through the routes: create, invite (logged in and after sign-up), roles, owners,
transfer, leave, delete, switcher."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from tests.factories import PASSWORD, add_member, make_org, make_user
from webapp.audit.models import AuditEntry
from webapp.auth.models import User
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.orgs.models import Invitation, Membership, Organization


def membership(org, user) -> Membership | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Membership).where(Membership.organization_id == org.id, Membership.user_id == user.id)
    )


def audited(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def invite(client, slug, email, role="MEMBER"):
    return client.post(f"/o/{slug}/members/invite", {"email": email, "role": role})


# Create ---------------------------------------------------------------------------------------


def test_signup_gives_a_personal_org_and_create_org_validates(client, ctx):
    make_user("maker@example.com")
    make_org(make_user("squatter@example.com"), slug="taken-slug")
    client.login("maker@example.com")
    home = client.get("/o/")
    assert home.status_code == 302 and home.headers["Location"].startswith("/o/maker")

    base = {"name": "Mutare Mills", "email": "ops@mutare.example", "country": "ZW", "timezone": "Africa/Harare"}
    cases = {
        "taken-slug": "taken",
        "admin": "reserved",
        "Bad Slug!": "lowercase letters",
        "-dash": "lowercase letters",
        "ab": "between 3 and 63",
    }
    for slug, message in cases.items():
        page = client.post("/orgs/new", {**base, "slug": slug})
        assert page.status_code == 422 and message in page.get_data(as_text=True), slug
    bad_zone = client.post("/orgs/new", {**base, "slug": "mutare-mills", "timezone": "Mars/Olympus"})
    assert "Not a valid choice" in bad_zone.get_data(as_text=True)
    no_name = client.post("/orgs/new", {**base, "name": "", "slug": "mutare-mills"})
    assert "This field is required" in no_name.get_data(as_text=True)
    assert db.session.scalar(select(Organization).where(Organization.slug == "mutare-mills")) is None

    created = client.post("/orgs/new", {**base, "slug": "mutare-mills"})
    assert created.status_code == 303 and created.headers["Location"] == "/o/mutare-mills/"
    org = db.session.scalar(select(Organization).where(Organization.slug == "mutare-mills"))
    assert org.timezone == "Africa/Harare" and not org.is_personal
    owner = db.session.scalar(select(User).where(User.email == "maker@example.com"))
    assert membership(org, owner).role == "OWNER"
    page = client.get("/o/mutare-mills/").get_data(as_text=True)
    assert "Mutare Mills" in page and "you are Owner" in page
    assert audited("organization.created")


def test_settings_update_and_validation(client, ctx):
    owner = make_user("set@example.com")
    org = make_org(owner, "Before", "settings-co")
    client.login(owner.email)
    bad = client.post(
        "/o/settings-co/settings", {"name": "", "email": "x@example.com", "country": "ZW", "timezone": "UTC"}
    )
    assert bad.status_code == 422 and "This field is required" in bad.get_data(as_text=True)
    ok = client.post(
        "/o/settings-co/settings",
        {"name": "After", "email": "x@example.com", "country": "JP", "timezone": "Asia/Tokyo"},
    )
    assert ok.status_code == 303
    db.session.refresh(org)
    assert (org.name, org.country, org.timezone) == ("After", "JP", "Asia/Tokyo")
    assert audited("organization.updated")


# Invitations ----------------------------------------------------------------------------------


def test_invite_existing_user_who_accepts_while_logged_in(client, make_client, ctx, mailbox, run_jobs):
    owner = make_user("boss@example.com", name="Boss")
    org = make_org(owner, "Gweru Grain", "gweru-grain")
    bob = make_user("bob@example.com")
    client.login(owner.email)
    assert invite(client, "gweru-grain", "Bob@Example.com", "BILLING").status_code == 303
    assert "bob@example.com" in client.get("/o/gweru-grain/members").get_data(as_text=True)
    run_jobs()
    message = mailbox.last_to("bob@example.com")
    assert "Boss invited you to Gweru Grain" in message["Subject"]
    link = path_of(mailbox.link("bob@example.com"))

    invitee = make_client()
    invitee.login(bob.email)
    page = invitee.get(link)
    assert page.status_code == 200 and "Join Gweru Grain" in page.get_data(as_text=True)
    accepted = invitee.post(link)
    assert accepted.status_code == 303 and accepted.headers["Location"] == "/o/gweru-grain/"
    assert membership(org, bob).role == "BILLING"
    # the link is used up
    again = invitee.get(link)
    assert again.status_code == 400 and "not valid any more" in again.get_data(as_text=True)
    assert invitee.post(link).status_code == 400
    assert audited("member.invited") and audited("member.joined")


def test_invitee_without_account_signs_up_and_comes_back_to_accept(client, make_client, ctx, mailbox, run_jobs):
    owner = make_user("host@example.com")
    org = make_org(owner, "Masvingo Motors", "masvingo-motors")
    client.login(owner.email)
    invite(client, "masvingo-motors", "newbie@example.com", "ADMIN")
    run_jobs()
    link = path_of(mailbox.link("newbie@example.com"))

    newbie = make_client()
    page = newbie.get(link).get_data(as_text=True)
    signup_url = re.search(r'href="(/auth/signup\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "next=" in signup_url and "email=newbie" in signup_url
    form = newbie.get(signup_url).get_data(as_text=True)
    assert 'value="newbie@example.com"' in form
    signed_up = newbie.post(signup_url, {"name": "Newbie", "email": "newbie@example.com", "password": PASSWORD})
    assert signed_up.status_code == 303 and signed_up.headers["Location"] == link
    assert "Accept and join" in newbie.get(link).get_data(as_text=True)
    joined = newbie.post(link)
    assert joined.status_code == 303 and joined.headers["Location"] == "/o/masvingo-motors/"
    user = db.session.scalar(select(User).where(User.email == "newbie@example.com"))
    assert membership(org, user).role == "ADMIN"
    assert user.is_verified  # the invitation link proved the inbox
    assert newbie.get("/o/masvingo-motors/members").status_code == 200


def test_invitee_with_account_logs_in_from_the_invitation(client, make_client, ctx, mailbox, run_jobs):
    owner = make_user("h2@example.com")
    org = make_org(owner, slug="login-from-invite")
    rudo = make_user("rudo@example.com")
    client.login(owner.email)
    invite(client, org.slug, rudo.email)
    run_jobs()
    link = path_of(mailbox.link(rudo.email))
    other = make_client()
    page = other.get(link).get_data(as_text=True)
    login_url = re.search(r'href="(/auth/login\?[^"]+)"', page).group(1).replace("&amp;", "&")
    back = other.post(login_url, {"email": rudo.email, "password": PASSWORD})
    assert back.headers["Location"] == link
    assert other.post(link).status_code == 303
    assert membership(org, rudo) is not None


def test_invitation_for_another_address_is_refused(client, make_client, ctx, mailbox, run_jobs):
    owner = make_user("h3@example.com")
    org = make_org(owner, slug="mismatch-co")
    make_user("intruder@example.com")
    client.login(owner.email)
    invite(client, org.slug, "rightful@example.com")
    run_jobs()
    link = path_of(mailbox.link("rightful@example.com"))
    intruder = make_client()
    intruder.login("intruder@example.com")
    page = intruder.get(link).get_data(as_text=True)
    assert "rightful@example.com" in page and "intruder@example.com" in page
    refused = intruder.post(link)
    assert refused.status_code == 400
    assert "This invitation is for rightful@example.com" in refused.get_data(as_text=True)
    intruder_user = db.session.scalar(select(User).where(User.email == "intruder@example.com"))
    assert membership(org, intruder_user) is None
    # still usable by the right person
    invitation = db.session.scalar(select(Invitation).where(Invitation.email == "rightful@example.com"))
    assert invitation.is_pending


def test_expired_and_revoked_invitations(client, make_client, ctx, mailbox, run_jobs):
    owner = make_user("h4@example.com")
    org = make_org(owner, slug="expiry-co")
    late = make_user("late@example.com")
    gone = make_user("gone@example.com")
    client.login(owner.email)
    invite(client, org.slug, late.email)
    invite(client, org.slug, gone.email)
    run_jobs()
    late_link, gone_link = path_of(mailbox.link(late.email)), path_of(mailbox.link(gone.email))

    revoke_id = db.session.scalar(select(Invitation.id).where(Invitation.email == gone.email))
    assert client.post(f"/o/{org.slug}/invitations/{revoke_id}/revoke").status_code == 303
    assert client.post(f"/o/{org.slug}/invitations/{revoke_id}/revoke").status_code == 303  # flash, no 500
    g = make_client()
    g.login(gone.email)
    assert g.get(gone_link).status_code == 400
    assert g.post(gone_link).status_code == 400
    assert membership(org, gone) is None

    lc = make_client()
    lc.login(late.email)
    with time_machine.travel(utcnow() + timedelta(days=8), tick=False):
        assert lc.get(late_link).status_code == 400
        response = lc.post(late_link)
        assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    assert membership(org, late) is None
    assert make_client().get("/invitations/made-up-token").status_code == 400


def test_invite_refusals(client, ctx):
    owner = make_user("h5@example.com")
    org = make_org(owner, slug="refusals-co")
    member = make_user("already@example.com")
    add_member(org, member)
    client.login(owner.email)
    dup = invite(client, org.slug, "ALREADY@example.com")
    assert dup.status_code == 422 and "already a member" in dup.get_data(as_text=True)
    bad = invite(client, org.slug, "not-an-address")
    assert bad.status_code == 422 and "Invalid email" in bad.get_data(as_text=True)
    wrong_role = invite(client, org.slug, "x@example.com", "GOD")
    assert wrong_role.status_code == 422 and "Not a valid choice" in wrong_role.get_data(as_text=True)


def test_a_new_invitation_replaces_the_old_link(client, make_client, ctx, mailbox, run_jobs):
    owner = make_user("h6@example.com")
    org = make_org(owner, slug="replace-co")
    twice = make_user("twice@example.com")
    client.login(owner.email)
    invite(client, org.slug, twice.email)
    run_jobs()
    first = path_of(mailbox.link(twice.email))
    invite(client, org.slug, twice.email, "ADMIN")
    run_jobs()
    second = path_of(mailbox.link(twice.email))
    assert first != second
    c = make_client()
    c.login(twice.email)
    assert c.post(first).status_code == 400
    assert c.post(second).status_code == 303
    assert membership(org, twice).role == "ADMIN"


# Roles and owners -----------------------------------------------------------------------------


def _team(ctx_roles=("ADMIN", "MEMBER")):
    owner = make_user("own@example.com")
    org = make_org(owner, "Team Co", "team-co")
    people = {"OWNER": membership(org, owner)}
    for role in ctx_roles:
        people[role] = add_member(org, make_user(f"{role.lower()}@example.com"), role)
    return org, people


def test_owner_changes_roles_and_invalid_role_is_refused(client, ctx):
    org, people = _team()
    client.login("own@example.com")
    target = people["MEMBER"]
    assert client.post(f"/o/team-co/members/{target.id}/role", {"role": "BILLING"}).status_code == 303
    assert membership(org, target.user).role == "BILLING"
    client.post(f"/o/team-co/members/{target.id}/role", {"role": "EMPEROR"})
    assert "Choose a role" in client.get("/o/team-co/members").get_data(as_text=True)
    assert membership(org, target.user).role == "BILLING"
    entry = audited("member.role_changed")[-1]
    assert entry.details == {"user_id": target.user_id, "from": "MEMBER", "to": "BILLING"}


def test_last_owner_cannot_leave_be_demoted_or_removed(client, make_client, ctx):
    org, people = _team()
    owner = people["OWNER"]
    client.login("own@example.com")
    demote = client.post(f"/o/team-co/members/{owner.id}/role", {"role": "ADMIN"})
    assert demote.status_code == 303
    assert "last owner cannot be demoted" in client.get("/o/team-co/members").get_data(as_text=True)
    client.post(f"/o/team-co/members/{owner.id}/remove")
    assert "last owner cannot be removed" in client.get("/o/team-co/members").get_data(as_text=True)
    client.post("/o/team-co/leave")
    assert "You are the last owner" in client.get("/o/team-co/").get_data(as_text=True)
    assert membership(org, owner.user).role == "OWNER"

    # with a second owner, the first may step down and leave
    second = people["ADMIN"]
    client.post(f"/o/team-co/members/{second.id}/role", {"role": "OWNER"})
    assert membership(org, second.user).role == "OWNER"
    assert client.post(f"/o/team-co/members/{owner.id}/role", {"role": "ADMIN"}).status_code == 303
    assert membership(org, owner.user).role == "ADMIN"
    assert client.post("/o/team-co/leave").status_code == 303
    assert membership(org, owner.user) is None
    assert client.get("/o/team-co/").status_code == 404


def test_admins_cannot_touch_owners(client, ctx):
    org, people = _team()
    client.login("admin@example.com")
    owner = people["OWNER"]
    assert client.post(f"/o/team-co/members/{owner.id}/role", {"role": "MEMBER"}).status_code == 403
    assert client.post(f"/o/team-co/members/{owner.id}/remove").status_code == 403
    assert client.post(f"/o/team-co/members/{people['MEMBER'].id}/role", {"role": "OWNER"}).status_code == 403
    owner_invite = invite(client, "team-co", "crown@example.com", "OWNER")
    assert owner_invite.status_code == 422 and "Only an owner" in owner_invite.get_data(as_text=True)
    assert membership(org, owner.user).role == "OWNER"
    assert membership(org, people["MEMBER"].user).role == "MEMBER"
    page = client.get("/o/team-co/members").get_data(as_text=True)
    assert f"/members/{owner.id}/remove" not in page and f"/members/{owner.id}/role" not in page
    assert '<option value="OWNER"' not in page
    # but may manage everyone else
    assert client.post(f"/o/team-co/members/{people['MEMBER'].id}/role", {"role": "BILLING"}).status_code == 303
    assert client.post(f"/o/team-co/members/{people['MEMBER'].id}/remove").status_code == 303
    assert membership(org, people["MEMBER"].user) is None
    assert audited("member.removed")


def test_transfer_ownership(client, ctx):
    org, people = _team()
    client.login("own@example.com")
    assert "Transfer ownership" in client.get("/o/team-co/members").get_data(as_text=True)
    response = client.post("/o/team-co/transfer", {"member_id": people["MEMBER"].id})
    assert response.status_code == 303
    assert membership(org, people["MEMBER"].user).role == "OWNER"
    assert membership(org, people["OWNER"].user).role == "ADMIN"
    assert client.get("/o/team-co/settings").status_code == 403  # no longer the owner
    assert audited("organization.ownership_transferred")[-1].details == {"to_user_id": people["MEMBER"].user_id}


def test_transfer_to_another_orgs_member_is_404(client, ctx):
    org, people = _team()
    stranger_org = make_org(make_user("else@example.com"), slug="elsewhere")
    stranger = add_member(stranger_org, make_user("far@example.com"))
    client.login("own@example.com")
    assert client.post("/o/team-co/transfer", {"member_id": stranger.id}).status_code == 404
    assert client.post("/o/team-co/transfer", {"member_id": "nope"}).status_code == 404
    assert membership(org, people["OWNER"].user).role == "OWNER"


def test_member_leaves(client, ctx):
    org, people = _team()
    client.login("member@example.com")
    response = client.post("/o/team-co/leave")
    assert response.status_code == 303 and response.headers["Location"] == "/o/"
    assert membership(org, people["MEMBER"].user) is None
    assert client.get("/o/team-co/").status_code == 404
    assert audited("member.left")


# Delete ---------------------------------------------------------------------------------------


def test_delete_org_needs_the_slug_typed(client, make_client, ctx):
    org, _ = _team()
    member = make_client()
    member.login("member@example.com")
    client.login("own@example.com")
    wrong = client.post("/o/team-co/delete", {"confirm_slug": "team co"})
    assert wrong.status_code == 422 and "Type the organization" in wrong.get_data(as_text=True)
    assert member.get("/o/team-co/").status_code == 200
    done = client.post("/o/team-co/delete", {"confirm_slug": "team-co"})
    assert done.status_code == 303 and done.headers["Location"] == "/o/"
    assert client.get("/o/team-co/").status_code == 404
    assert member.get("/o/team-co/").status_code == 404
    db.session.refresh(org)
    assert org.deleted_at is not None
    # the address is free again, and the deleted org is gone from the switcher
    assert "Team Co" not in client.get("/account/").get_data(as_text=True)
    again = client.post(
        "/orgs/new",
        {"name": "Team Co 2", "slug": "team-co", "email": "t@example.com", "country": "ZW", "timezone": "UTC"},
    )
    assert again.status_code == 303
    assert audited("organization.deleted")[-1].details == {"slug": "team-co"}


# Switcher -------------------------------------------------------------------------------------


def test_switcher_lists_my_orgs_and_remembers_the_last_one(client, ctx):
    me = make_user("switch@example.com")
    first = make_org(me, "Alpha Traders", "alpha-traders")
    second = make_org(make_user("other-owner@example.com"), "Beta Brewers", "beta-brewers")
    add_member(second, me, "BILLING")
    make_org(make_user("x@example.com"), "Gamma Secret", "gamma-secret")
    client.login(me.email)
    page = client.get(f"/o/{first.slug}/").get_data(as_text=True)
    switcher = page[page.index("org-switcher") : page.index("</details>")]
    assert "Alpha Traders" in switcher and "Beta Brewers" in switcher and "Gamma Secret" not in switcher
    assert 'href="/o/beta-brewers/"' in switcher and "Billing" in switcher
    assert client.get("/o/beta-brewers/").status_code == 200
    assert client.get("/o/").headers["Location"] == "/o/beta-brewers/"
    assert client.get("/o/alpha-traders/").status_code == 200
    assert client.get("/o/").headers["Location"] == "/o/alpha-traders/"


def test_invitations_of_a_deleted_org_stop_working(client, make_client, ctx, mailbox, run_jobs):
    owner = make_user("closing@example.com")
    org = make_org(owner, "Closing Co", "closing-co")
    guest = make_user("guest@example.com")
    client.login(owner.email)
    invite(client, org.slug, guest.email)
    run_jobs()
    link = path_of(mailbox.link(guest.email))
    assert client.post("/o/closing-co/delete", {"confirm_slug": "closing-co"}).status_code == 303
    other = make_client()
    other.login(guest.email)
    assert other.get(link).status_code == 400
    assert other.post(link).status_code == 400
    assert membership(org, guest) is None
