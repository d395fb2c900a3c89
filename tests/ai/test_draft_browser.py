"""In a real browser: describe a workflow in words, see the AI sandbox's validated draft, save it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_org, make_user
from webapp.ai import credits
from webapp.extensions import db

pytestmark = pytest.mark.browser


def test_describe_workflow_draft_shown_and_saved(new_page, live_server, ctx):
    owner = make_user("nyasha@example.com")
    org = make_org(owner, "Nyasha Media", "nyasha-media")
    credits.balance_of(org)
    credits.adjust(org, owner, 500, "BONUS", "Browser test credits")
    db.session.commit()

    page = new_page()
    page.goto("/auth/login")
    page.get_by_label("E-mail", exact=True).fill("nyasha@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/o/"))

    page.goto("/o/nyasha-media/workflows/")
    page.get_by_role("link", name="Draft with AI").click()
    page.get_by_label("Describe the workflow").fill(
        "When an invoice is overdue, post to our Slack and e-mail billing@nyasha.example"
    )
    page.get_by_role("button", name="Draft it").click()

    draft = page.locator("#draft")
    expect(draft).to_contain_text("invoice.overdue")
    expect(draft).to_contain_text("HTTP request")
    expect(draft).to_contain_text("Send e-mail")
    expect(draft).to_contain_text("credential: chat")
    page.get_by_label("Name", exact=True).fill("Overdue invoice alerts")
    page.get_by_role("button", name="Save as workflow").click()

    expect(page).to_have_url(re.compile(r"/o/nyasha-media/workflows/\d+$"))
    expect(page.get_by_role("heading", name="Overdue invoice alerts")).to_be_visible()
    expect(page.locator("#steps")).to_contain_text("Send to chat")
    expect(page.locator("#steps")).to_contain_text("Needs a credential: chat")

    # the request was metered: it shows on the AI page
    page.goto("/o/nyasha-media/ai/")
    expect(page.locator("#ai-usage")).to_contain_text("workflow_draft")
