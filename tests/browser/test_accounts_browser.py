"""In a real browser: sign up, verify by the e-mailed link, create an organization, invite a
member who signs up through the invitation and joins, switch organization."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_signup_verify_create_invite_join_switch(new_page, live_server, mailbox, run_jobs):
    founder = new_page()
    founder.goto("/auth/signup")
    founder.get_by_label("Name", exact=True).fill("Chipo Moyo")
    founder.get_by_label("E-mail", exact=True).fill("chipo@example.com")
    founder.get_by_label("Password", exact=True).fill(PASSWORD)
    founder.locator("main").get_by_role("button", name="Sign up").click()
    expect(founder).to_have_url(re.compile(r"/o/chipo[^/]*/$"))
    expect(founder.get_by_text("We sent you a link to confirm")).to_be_visible()

    run_jobs()
    founder.goto(mailbox.link("chipo@example.com"))
    expect(founder.get_by_text("Your e-mail address is confirmed.")).to_be_visible()

    # a new organization
    founder.goto("/orgs/new")
    founder.get_by_label("Name", exact=True).fill("Chinhoyi Crafts")
    founder.locator("#slug").fill("chinhoyi-crafts")
    founder.get_by_label("Contact e-mail", exact=True).fill("hello@chinhoyi.example")
    founder.locator("#country").select_option("ZW")
    founder.locator("#timezone").select_option("Africa/Harare")
    founder.get_by_role("button", name="Create organization").click()
    expect(founder).to_have_url(f"{live_server}/o/chinhoyi-crafts/")
    expect(founder.get_by_role("heading", name="Chinhoyi Crafts")).to_be_visible()

    # invite a member from the members page (reached through the sidebar)
    founder.locator("aside.sidebar").get_by_role("link", name="Members").click()
    expect(founder).to_have_url(f"{live_server}/o/chinhoyi-crafts/members")
    founder.get_by_label("E-mail", exact=True).fill("tendai@example.com")
    founder.locator("#role").select_option("ADMIN")
    founder.get_by_role("button", name="Send invitation").click()
    expect(founder.get_by_text("Invitation sent to tendai@example.com")).to_be_visible()
    expect(founder.get_by_role("cell", name="tendai@example.com")).to_be_visible()

    run_jobs()
    invitation_link = mailbox.link("tendai@example.com")
    assert invitation_link.startswith(live_server + "/invitations/")

    # the invitee has no account: signs up through the invitation and comes back to accept it
    invitee = new_page()
    invitee.goto(invitation_link)
    expect(invitee.get_by_role("heading", name="Join Chinhoyi Crafts")).to_be_visible()
    invitee.get_by_role("button", name="Sign up to join").click()
    expect(invitee.get_by_label("E-mail", exact=True)).to_have_value("tendai@example.com")
    invitee.get_by_label("Name", exact=True).fill("Tendai Ncube")
    invitee.get_by_label("Password", exact=True).fill(PASSWORD)
    invitee.locator("main").get_by_role("button", name="Sign up").click()
    expect(invitee).to_have_url(invitation_link)
    invitee.get_by_role("button", name="Accept and join").click()
    expect(invitee).to_have_url(f"{live_server}/o/chinhoyi-crafts/")
    expect(invitee.get_by_text("You joined Chinhoyi Crafts.")).to_be_visible()
    expect(invitee.get_by_text("you are Admin")).to_be_visible()

    # the invitee appears among the members
    founder.reload()
    expect(founder.get_by_role("cell", name="Tendai Ncube")).to_be_visible()

    # switch organization with the header switcher, both ways
    switcher = founder.locator("details.org-switcher")
    expect(switcher.locator("summary")).to_have_text("Chinhoyi Crafts")
    switcher.locator("summary").click()
    switcher.get_by_role("link", name=re.compile("Chipo Moyo's workspace")).click()
    expect(founder).to_have_url(re.compile(r"/o/chipo[^/]*/$"))
    expect(switcher.locator("summary")).to_have_text("Chipo Moyo's workspace")
    switcher.locator("summary").click()
    switcher.get_by_role("link", name=re.compile("Chinhoyi Crafts")).click()
    expect(founder).to_have_url(f"{live_server}/o/chinhoyi-crafts/")

    invitee_switcher = invitee.locator("details.org-switcher")
    invitee_switcher.locator("summary").click()
    expect(invitee_switcher.get_by_role("link", name=re.compile("Tendai Ncube's workspace"))).to_be_visible()
    expect(invitee_switcher.get_by_role("link", name=re.compile("Chinhoyi Crafts"))).to_be_visible()
