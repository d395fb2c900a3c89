"""Issue 13, point 2: after each kind of e-mail that carries a one-time link, no text column of any
table holds the live token (the whole database is searched through information_schema), while the
link in the message works. E-mail addresses change nowhere in the product (the profile edits the
name only), so there is no e-mail-change link to search for."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.billing.helpers import make_invoice
from tests.factories import PASSWORD, make_org, make_user
from webapp.billing.models import Invoice
from webapp.extensions import db

pytestmark = pytest.mark.postgres

TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")


def _text_columns() -> list[tuple[str, str]]:
    rows = db.session.execute(
        text(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c"
            " JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
            " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
            " AND c.data_type = ANY(:types)"
        ),
        {"types": list(TEXT_TYPES)},
    ).all()
    return [(table, column) for table, column in rows]


def columns_holding(value: str) -> list[str]:
    """Every ``table.column`` (text, varchar, json) in which some row contains ``value``."""
    db.session.expire_all()
    found = []
    for table, column in _text_columns():
        hit = db.session.execute(
            text(f'SELECT 1 FROM "{table}" WHERE strpos("{column}"::text, :value) > 0 LIMIT 1'), {"value": value}
        ).first()
        if hit:
            found.append(f"{table}.{column}")
    db.session.rollback()
    return found


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def _assert_nowhere(token: str, address: str) -> None:
    assert len(token) >= 20
    assert len(_text_columns()) > 100  # the search covers the whole schema
    assert "email_messages.to_address" in columns_holding(address)  # and finds what is there
    assert columns_holding(token) == []


def test_password_reset_link(client, make_client, ctx, mailbox, run_jobs):
    make_user("reset@example.com")
    client.post("/auth/reset", {"email": "reset@example.com"})
    run_jobs()
    link = mailbox.link("reset@example.com", r"https?://\S+/auth/reset/\S+")
    _assert_nowhere(_token(link), "reset@example.com")
    assert make_client().get(link).status_code == 200  # the live token, working


def test_verification_link_on_sign_up_and_resent(client, make_client, ctx, mailbox, run_jobs):
    assert client.post("/auth/signup", {"email": "new@example.com", "password": PASSWORD}).status_code == 303
    run_jobs()
    first = mailbox.link("new@example.com", r"https?://\S+/auth/verify/\S+")
    _assert_nowhere(_token(first), "new@example.com")
    mailbox.clear()
    assert client.post("/auth/verify/resend").status_code in (200, 303)
    run_jobs()
    again = mailbox.link("new@example.com", r"https?://\S+/auth/verify/\S+")
    assert again != first
    _assert_nowhere(_token(again), "new@example.com")
    assert make_client().get(again).status_code in (200, 303)


def test_invitation_link(client, make_client, ctx, mailbox, run_jobs):
    owner = make_user("owner@example.com")
    make_org(owner, "Leak Test", "leak-test")
    client.login("owner@example.com")
    invited = client.post("/o/leak-test/members/invite", {"email": "guest@example.com", "role": "MEMBER"})
    assert invited.status_code == 303, invited.get_data(as_text=True)[:500]
    run_jobs()
    link = mailbox.link("guest@example.com", r"https?://\S+/invitations/\S+")
    _assert_nowhere(_token(link), "guest@example.com")
    page = make_client().get(link).get_data(as_text=True)
    assert "not valid any more" not in page and "Leak Test" in page


def test_payment_link(client, make_client, ctx, mailbox, run_jobs):
    owner = make_user("payer@example.com")
    org = make_org(owner, "Pay Leak", "pay-leak")
    invoice = make_invoice(org)
    run_jobs()
    link = mailbox.link("payer@example.com", r"https?://\S+/pay/\S+")
    token = _token(link)
    _assert_nowhere(token, "payer@example.com")
    assert make_client().get(link).status_code == 200
    # what the table keeps is no working link, and a forged MAC is refused
    nonce = db.session.get(Invoice, invoice.id).payment_nonce
    assert nonce and nonce in token
    assert make_client().get(f"/pay/{nonce}").status_code == 404
    assert make_client().get(f"/pay/{nonce}.AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
