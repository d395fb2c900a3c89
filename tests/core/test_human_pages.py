"""Pages read as people write: no raw enum names, sizes and counts in words, times in the viewer's
organization's zone with the zone named, a 403 that keeps the layout and says who can grant access,
navigation without links that would answer 403, and an audit log with money and links."""

import re

from tests.factories import add_member, make_org, make_user
from webapp.audit import record
from webapp.extensions import db

RAW = re.compile(r"PAYNOW_[A-Z]+|POS_TERMINAL|Pos Terminal|Ai credits|Storage \(mb\)|storage_mb|ai_credits|\b1 runs\b")


def _text(response) -> str:
    return response.get_data(as_text=True)


def _visible(html: str) -> str:
    """What a person reads: the text between tags (ids, values and names are for machines)."""
    return re.sub(r"<[^>]+>", " ", html)


def _org_with(client, role="OWNER", tz=None):
    owner = make_user(name="Tariro Owner")
    org = make_org(owner)
    if tz:
        org.timezone = tz
        db.session.commit()
    user = owner
    if role != "OWNER":
        user = make_user()
        add_member(org, user, role)
    client.login(user.email)
    return owner, user, org


def test_a_403_keeps_the_layout_and_names_who_can_grant_access(client, ctx):
    owner, _member, org = _org_with(client, "MEMBER")
    admin = make_user(name="Anesu Admin")
    add_member(org, admin, "ADMIN")
    page = client.get(f"/o/{org.slug}/api-keys")
    text = _text(page)
    assert page.status_code == 403
    assert 'class="sidebar"' in text and f"/o/{org.slug}/support/" in text  # the organization's navigation
    assert "You are a Member in" in text and "open to Owner and Admin" in text
    assert "Tariro Owner (Owner)" in text and "Anesu Admin (Admin)" in text and owner.email in text
    assert f'href="/o/{org.slug}/"' in text
    # the sidebar offers nothing that would answer 403 to this member
    assert f"/o/{org.slug}/api-keys" not in text.split("<main")[0]
    assert f"/o/{org.slug}/billing" not in text.split("<main")[0]


def test_another_organizations_page_is_still_a_plain_404(client, ctx):
    _, _, _org = _org_with(client, "MEMBER")
    other = make_org(make_user())
    page = client.get(f"/o/{other.slug}/api-keys")
    assert page.status_code == 404 and "can change your role" not in _text(page)


def test_a_member_sees_no_storage_upgrade_link_and_sizes_read_in_units(client, ctx):
    _, _, org = _org_with(client, "MEMBER")
    text = _text(client.get(f"/o/{org.slug}/files/"))
    assert f"/o/{org.slug}/subscription" not in text
    assert "ask someone with billing access" in text
    assert re.search(r"0 B\s+of\s+\d+ (MB|GB)\s+used", _visible(text)), text
    assert "0.0 MB" not in text and not RAW.search(_visible(text))


def test_an_owner_sees_the_storage_link_and_the_subscription_page_reads_in_words(client, ctx):
    _, _, org = _org_with(client)
    assert f"/o/{org.slug}/subscription" in _text(client.get(f"/o/{org.slug}/files/"))
    text = _text(client.get(f"/o/{org.slug}/subscription"))
    assert "Storage (MB)" in text and "AI credits per period" in text
    assert re.search(r"0 B\s+of\s+\d+ (MB|GB)", _visible(text))
    assert not RAW.search(_visible(text)), RAW.search(_visible(text))


def test_a_task_page_offers_integrations_only_to_who_may_open_them(client, ctx):
    from webapp.projects import services as projects

    owner, _member, org = _org_with(client, "MEMBER")
    project = projects.create_project(org, owner, "Rollout")
    task = projects.create_task(project, owner, "Install tills")
    db.session.commit()
    text = _text(client.get(f"/o/{org.slug}/projects/{project.id}/tasks/{task.id}"))
    assert f"/o/{org.slug}/integrations" not in text and "An owner or admin" in text


def test_notifications_and_the_ticket_page_show_the_organizations_zone_by_name(client, ctx):
    from webapp.notifications.services import notify
    from webapp.support.services import open_ticket

    owner, _, org = _org_with(client, tz="Asia/Tokyo")
    notify(owner, "workflow.notice", "Hello", "A notice", org=org)
    ticket = open_ticket(org, owner, "Till offline", "It does not start")
    db.session.commit()
    tokyo = ticket.created_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")
    notes = _text(client.get("/notifications/"))
    assert "JST" in notes and " UTC" not in notes
    page = _text(client.get(f"/o/{org.slug}/support/{ticket.id}"))
    assert f"Opened {tokyo} JST" in page and " UTC" not in page


def test_the_audit_log_shows_money_as_money_and_entities_as_links(client, ctx):
    staff = make_user(staff=True)
    customer = make_user(name="Rudo Customer")
    record(staff, "user.made_staff", customer, {"note": "demo"})
    record(None, "payment.received", customer, {"amount": 4900, "method": "PAYNOW_ECOCASH"})
    record(None, "ai_credits.bonus", customer, {"amount": 500})
    db.session.commit()
    client.login(staff.email)
    text = _text(client.get("/admin/audit"))
    assert "USD 49.00" in text and ">4900<" not in text and " 4900" not in text
    assert "Amount</span> 500" in text  # credits are a count, not money
    assert f'href="/admin/users/{customer.id}"' in text


def test_a_provider_that_cannot_be_reached_is_a_sentence_to_the_payer(ctx, client, monkeypatch):
    """Paynow unreachable: the payer reads a sentence; the exception class stays in the call log."""
    import socket

    from sqlalchemy import select

    from tests.billing.helpers import make_invoice, org_with_owner
    from webapp.billing.models import Payment
    from webapp.integrations.models import OutboundCall

    with socket.socket() as probe:  # a port nothing listens on: the connection is refused at once
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setitem(ctx.app.config, "PAYNOW_BASE_URL", f"http://127.0.0.1:{closed}/paynow")
    org, _ = org_with_owner("unreachable@example.com")
    invoice = make_invoice(org, lines=((1, 10_000),))
    response = client.post(f"/pay/{invoice.payment_token}/express", {"method": "PAYNOW_ECOCASH", "phone": "0771111111"})
    follow = client.get(response.headers["Location"]) if response.status_code in (302, 303) else response
    text = _text(follow)
    assert "We could not reach Paynow; nothing was charged. Try again in a minute." in text
    assert "ConnectError" not in text and "unreachable (" not in text and "PAYNOW_ECOCASH" not in _visible(text)
    payment = db.session.scalar(select(Payment).where(Payment.invoice_id == invoice.id))
    assert payment.status == "FAILED" and "could not reach Paynow" in payment.error_message
    logged = db.session.scalars(select(OutboundCall).where(OutboundCall.provider == "paynow")).all()
    assert logged and any("ConnectError" in (c.error or "") for c in logged)  # the detail, for staff
