"""Issue 13: one-time links redacted in the e-mail log; older links end when a newer one is issued."""

from __future__ import annotations

from sqlalchemy import text

from tests.factories import PASSWORD, make_user
from webapp.extensions import db


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def test_reset_link_is_redacted_in_the_log_and_older_link_ends(client, make_client, ctx, mailbox, run_jobs):
    make_user("owner@example.com")
    client.post("/auth/reset", {"email": "owner@example.com"})
    run_jobs()
    older = mailbox.link("owner@example.com")
    mailbox.clear()
    client.post("/auth/reset", {"email": "owner@example.com"})
    run_jobs()
    newer = mailbox.link("owner@example.com")
    assert older != newer
    for link in (older, newer, "/auth/verify/"):
        if link.startswith("http"):
            dump = db.session.execute(
                text("SELECT count(*) FROM email_messages WHERE html_body LIKE :t OR text_body LIKE :t"),
                {"t": f"%{_token(link)}%"},
            ).scalar()
            assert dump == 0
    assert (
        db.session.execute(text("SELECT count(*) FROM email_messages WHERE html_body LIKE '%[redacted]%'")).scalar()
        == 2
    )
    assert make_client().get(older).status_code == 400  # ended by the newer one
    assert make_client().post(newer, {"password": "a brand new passphrase"}).status_code == 303
    assert make_client().post("/auth/login", {"email": "owner@example.com", "password": PASSWORD}).status_code == 200
