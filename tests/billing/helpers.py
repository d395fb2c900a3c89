"""Billing test data, made through the billing services and committed."""

from __future__ import annotations

from datetime import date

from tests.factories import make_org, make_user
from webapp.billing import services as billing
from webapp.extensions import db


def org_with_owner(email=None):
    owner = make_user(email)
    return make_org(owner), owner


def staff_user(email="staff@example.com"):
    return make_user(email, staff=True)


def make_invoice(org, lines=((1, 10_000),), *, finalize=True, period=(date(2026, 10, 1), date(2026, 10, 31))):
    account = billing.billing_account_for(org)
    invoice = billing.create_draft_invoice(account, period_start=period[0], period_end=period[1])
    for n, (qty, price) in enumerate(lines):
        billing.add_line_item(invoice, f"Line {n + 1}", qty, price)
    if finalize:
        billing.finalize_invoice(invoice, None)
    db.session.commit()
    return invoice


def mail_with(mailbox, address, text, run_jobs=None):
    """The latest message to ``address`` whose subject contains ``text`` (other domains mail too).
    Waits: with in-process jobs, mail sent by the live server's thread lands a moment later; with
    ``run_jobs``, the jobs that write and deliver it (and a delivery's retry, once due) run meanwhile,
    as a worker would run them."""
    import time

    deadline = time.monotonic() + 30
    while True:
        found = [m for m in mailbox.to(address) if text in m["Subject"]]
        if found or time.monotonic() > deadline:
            break
        if run_jobs is not None:
            run_jobs()
        time.sleep(0.1)
    assert found, [m["Subject"] for m in mailbox.to(address)]
    return found[-1]
