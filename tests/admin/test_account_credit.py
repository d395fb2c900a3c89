"""Staff issue account credit without an invoice and see every credit (issue 22, point 5): a second
press credits once, hostile amounts are refused with a message, customers never reach the form, and
the credits list names the organization, the reason and who issued it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import add_member, make_org, make_user
from webapp.billing import services as billing
from webapp.billing.models import Credit
from webapp.extensions import db


@pytest.fixture
def setup(ctx, make_client):
    owner = make_user("owner@credit.example")
    org = make_org(owner, "Credit Co", "credit-co")
    add_member(org, make_user("member@credit.example"), "MEMBER")
    make_user("ops@credit.example", staff=True)
    staff = make_client()
    staff.login("ops@credit.example")
    return {"org": org, "staff": staff}


def _credit(staff, org_id, amount, reason):
    return staff.post(
        f"/admin/billing/{org_id}/credit",
        {"account-amount": amount, "account-reason": reason},
        follow_redirects=True,
    )


def _grants(org):
    db.session.expire_all()
    return list(db.session.scalars(select(Credit).where(Credit.organization_id == org.id, Credit.kind == "GRANT")))


def test_a_double_press_credits_once_and_another_reason_credits_again(setup):
    org, staff = setup["org"], setup["staff"]
    first = _credit(staff, org.id, "25.00", "Terminal offline for two days")
    assert "Credit of 25.00 USD issued" in first.get_data(as_text=True)
    again = _credit(staff, org.id, "25.00", "Terminal offline for two days")
    assert "it was not issued twice" in again.get_data(as_text=True)
    assert [c.amount for c in _grants(org)] == [2_500]
    assert billing.billing_account_for(org).credit_balance == 2_500
    other = _credit(staff, org.id, "25.00", "Second terminal offline too")
    assert "Credit of 25.00 USD issued" in other.get_data(as_text=True)
    assert sorted(c.amount for c in _grants(org)) == [2_500, 2_500]
    assert billing.billing_account_for(org).credit_balance == 5_000
    assert all(c.invoice_id is None for c in _grants(org))


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Enter the amount."),
        ("abc", ""),
        ("-5", ""),
        ("0", "Enter an amount above zero."),
        ("1e3", ""),
        ("12.345", ""),
        ("99999999999999999999999", ""),
        ("<script>alert(1)</script>", ""),
    ],
)
def test_hostile_amounts_are_refused_with_a_message_and_credit_nothing(setup, amount, message):
    org, staff = setup["org"], setup["staff"]
    response = _credit(staff, org.id, amount, "Goodwill")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<script>alert(1)</script>" not in text
    assert message in text and "issued." not in text
    assert _grants(org) == []


def test_a_reason_is_required_and_kept_within_bounds(setup):
    org, staff = setup["org"], setup["staff"]
    assert "Say why the credit is issued." in _credit(staff, org.id, "5.00", "   ").get_data(as_text=True)
    assert "issued." not in _credit(staff, org.id, "5.00", "x" * 1001).get_data(as_text=True)
    assert _grants(org) == []


def test_customers_never_reach_the_credit_form_nor_the_list(setup, make_client):
    org = setup["org"]
    for email in ("owner@credit.example", "member@credit.example"):
        customer = make_client()
        customer.login(email)
        assert (
            customer.post(f"/admin/billing/{org.id}/credit", {"account-amount": "5", "account-reason": "x"}).status_code
            == 404
        )
        assert customer.get("/admin/credits").status_code == 404
    assert (
        setup["staff"].post("/admin/billing/999999/credit", {"account-amount": "5", "account-reason": "x"}).status_code
        == 404
    )
    assert db.session.scalar(select(func.count()).select_from(Credit)) == 0


def test_staff_see_every_credit_with_its_organization_reason_and_issuer(setup, make_client):
    org, staff = setup["org"], setup["staff"]
    other = make_org(make_user("other@credit.example"), "Other Credit Co", "other-credit-co")
    _credit(staff, org.id, "25.00", "Goodwill for the outage")
    _credit(staff, other.id, "7.50", "Late installation")
    listing = staff.get("/admin/credits").get_data(as_text=True)
    for text in ("Credit Co", "Other Credit Co", "Goodwill for the outage", "Late installation", "ops@credit.example"):
        assert text in listing, text
    assert "25.00" in listing and "7.50" in listing
    grants = staff.get("/admin/credits?kind=GRANT").get_data(as_text=True)
    assert "Goodwill for the outage" in grants
    notes = staff.get("/admin/credits?kind=CREDIT_NOTE").get_data(as_text=True)
    assert "Goodwill for the outage" not in notes and "No credits." in notes
    assert staff.get("/admin/credits?kind=%27%3B--&page=-3").status_code == 200  # hostile filters: no 500
    # The customer sees its own credit on its billing pages, never the other organization's.
    customer = make_client()
    customer.login("owner@credit.example")
    own = customer.get(f"/o/{org.slug}/billing/credits").get_data(as_text=True)
    assert "Goodwill for the outage" in own and "Late installation" not in own
    assert customer.get(f"/o/{other.slug}/billing/credits").status_code == 404
