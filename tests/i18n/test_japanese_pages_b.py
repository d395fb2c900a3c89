"""Japanese, second share: the workflow editor, runs and templates, an integration's connection and call
log, the public pay pages, sign-in and its neighbours, the error pages and their e-mails read in
Japanese with nothing left in English (the reader of ``test_japanese_pages``)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.i18n.test_japanese_pages import (
    CREATORS,
    DEMO_PASSWORD,
    RETAIL,
    catalogue_words,
    database_text,
    text_nodes,
    untranslated,
)
from webapp.extensions import db


def _first(model, *where):
    row = db.session.scalar(select(model).where(*where).order_by(model.id).limit(1))
    assert row is not None, f"the demo has no {model.__name__}"
    return row


def _org(slug):
    from webapp.orgs.demo import demo_org

    return demo_org(slug)


def workflow_pages(slug: str) -> list[str]:
    from webapp.workflows.models import Workflow, WorkflowCredential, WorkflowRun, WorkflowTemplate

    org = _org(slug)
    base = f"/o/{slug}/workflows"
    workflow = _first(Workflow, Workflow.organization_id == org.id)
    run = _first(WorkflowRun, WorkflowRun.organization_id == org.id)
    template = _first(WorkflowTemplate, WorkflowTemplate.published.is_(True))
    credential = _first(WorkflowCredential, WorkflowCredential.organization_id == org.id)
    return [
        f"{base}/{workflow.id}",
        f"{base}/{run.workflow_id}",
        f"{base}/{run.workflow_id}/runs",
        f"{base}/runs/{run.id}",
        f"{base}/new",
        f"{base}/draft",
        f"{base}/templates",
        f"{base}/templates/preview?template={template.id}",
        f"{base}/credentials",
        f"{base}/credentials/{credential.id}",
        f"/o/{slug}/ai/workflows/{run.workflow_id}/review",  # the AI's review, from the run history
    ]


def integration_pages(slug: str) -> list[str]:
    """Each connection's page (the demo connects freee and Google Drive for the creators), the call log,
    and with Drive its folder picker, its files and a file's unlink-or-delete page."""
    from webapp.integrations.models import Connection, DriveFile

    connections = db.session.scalars(
        select(Connection).where(Connection.organization_id == _org(slug).id).order_by(Connection.id)
    ).all()
    pages = [*(f"/o/{slug}/integrations/connections/{c.id}/" for c in connections), f"/o/{slug}/integrations/calls"]
    for drive in (c for c in connections if c.provider == "google_drive"):
        pages += [f"/o/{slug}/integrations/connections/{drive.id}/folders", f"/o/{slug}/integrations/drive/files"]
        drive_file = db.session.scalar(select(DriveFile).where(DriveFile.connection_id == drive.id).limit(1))
        if drive_file is not None:
            pages.append(f"/o/{slug}/integrations/drive/files/{drive_file.id}/delete")
    return pages


def drive_folder_names(slug: str) -> str:
    """The names of the folders at the top of the demo Drive, as Google (its sandbox) answers them: data
    from outside, shown as Drive has it."""
    from webapp.integrations import drive_files
    from webapp.integrations.models import Connection

    org = _org(slug)
    drive = _first(Connection, Connection.organization_id == org.id, Connection.provider == "google_drive")
    listing = drive_files.folder_listing(drive, None)
    assert listing["folders"], "the demo Drive has folders"
    return "\n".join(folder["name"] for folder in listing["folders"])


def read_both(client, url: str, *, status: int = 200) -> tuple[list[str], list[str]]:
    english = client.get(url, headers={"Accept-Language": "en"})
    japanese = client.get(url, headers={"Accept-Language": "ja,en;q=0.5"})
    assert english.status_code == japanese.status_code == status, (url, english.status_code, japanese.status_code)
    return text_nodes(english.get_data(as_text=True)), text_nodes(japanese.get_data(as_text=True))


class Reader:
    """Collects the English left on each page, so one run names every page that needs work."""

    def __init__(self):
        self.words = catalogue_words()
        self.stored = database_text()
        self.problems: dict[str, list[str]] = {}
        self.checked: list[str] = []

    def check(self, client, url: str, who: str, *, status: int = 200) -> list[str]:
        english, japanese = read_both(client, url, status=status)
        self.checked.append(url)
        assert set(japanese) != set(english), (who, url)  # the page did change language
        left = untranslated(japanese, self.words, self.stored, "\n".join(english))
        if left:
            self.problems[f"{url} as {who}"] = left
        return japanese

    def assert_clean(self):
        assert not self.problems, "English left in Japanese pages:\n" + "\n".join(
            f"{where}:\n  " + "\n  ".join(found) for where, found in self.problems.items()
        )


def test_the_workflow_integration_and_error_pages_of_the_demo_read_in_japanese(demo, make_client):
    folders = drive_folder_names(CREATORS)  # the folder picker lists Drive's own folders live (a logged call)
    reader = Reader()  # reads what is stored after that call, its request id included
    reader.stored += "\n" + folders
    for slug in (RETAIL, CREATORS):
        client = make_client()
        client.login(f"owner@{slug}.example", DEMO_PASSWORD)
        for url in [*workflow_pages(slug), *integration_pages(slug)]:
            reader.check(client, url, f"owner of {slug}")
    assert any("/connections/" in where for where in reader.checked)  # a freee or Drive connection was read
    assert any(where.endswith("/delete") for where in reader.checked)  # and a Drive file's removal page
    check_error_pages(reader, make_client)
    reader.assert_clean()


def _payable_invoice():
    from webapp.billing.models import Invoice
    from webapp.billing.services.invoices import new_payment_nonce
    from webapp.core.models import utcnow

    invoice = _first(Invoice, Invoice.organization_id == _org(RETAIL).id, Invoice.status.in_(("ISSUED", "OVERDUE")))
    if invoice.payment_nonce is None or invoice.link_expired:  # the demo's links may have run out
        from datetime import timedelta

        invoice.payment_nonce = new_payment_nonce()
        invoice.payment_token_expires_at = utcnow() + timedelta(days=30)
        db.session.commit()
    return invoice


def check_pay_pages(reader: Reader, make_client) -> None:
    """A payer has no account: the browser's Accept-Language chooses, on the page and its refusals."""
    from webapp.billing.models import Payment

    invoice = _payable_invoice()
    token = invoice.payment_token
    payer = make_client()  # never signed in
    japanese = reader.check(payer, f"/pay/{token}", "a payer")
    assert "お支払い" in " ".join(japanese)
    reader.check(payer, "/pay/not-a-real-token", "a payer", status=404)
    payment = db.session.scalar(select(Payment).where(Payment.invoice_id == invoice.id).limit(1))
    if payment is None:
        payment = _first(Payment, Payment.organization_id == _org(RETAIL).id)
        invoice = payment.invoice
        if invoice.payment_nonce is None:
            from webapp.billing.services.invoices import new_payment_nonce

            invoice.payment_nonce = new_payment_nonce()
            db.session.commit()
    reader.check(payer, f"/pay/{invoice.payment_token}/payments/{payment.id}", "a payer")
    # English when the browser names neither language, and when it prefers English.
    for accept in ("fr", "en;q=0.9,ja;q=0.5"):
        page = payer.get(f"/pay/{token}", headers={"Accept-Language": accept}).get_data(as_text=True)
        assert "Amount due" in page and "お支払い" not in page


def check_sign_in_pages(reader: Reader, make_client) -> None:
    from webapp.auth.models import User
    from webapp.auth.routes import PENDING_2FA
    from webapp.auth.services import RESET, issue_token
    from webapp.core.models import utcnow

    user = _first(User, User.email == f"owner@{RETAIL}.example")
    token = issue_token(user, RESET)
    db.session.commit()
    visitor = make_client()
    for url in ("/auth/login", "/auth/signup", "/auth/reset", f"/auth/reset/{token}", "/auth/reset/not-a-token"):
        reader.check(visitor, url, "a visitor", status=400 if url.endswith("not-a-token") else 200)
    second = _first(User, User.email == f"billing@{RETAIL}.example")
    second.totp_enabled_at = utcnow()  # past the password step of an account with a second factor
    db.session.commit()
    with visitor.client.session_transaction() as session:
        session[PENDING_2FA] = second.id
    reader.check(visitor, "/auth/login/2fa", "a visitor half signed in")
    # A refusal made in Python reads in Japanese too.
    refused = visitor.post(
        "/auth/login", {"email": user.email, "password": "wrong"}, headers={"Accept-Language": "ja"}
    ).get_data(as_text=True)
    assert "メールアドレスまたはパスワードが正しくありません。" in refused


def test_the_pay_and_sign_in_pages_read_in_the_visitors_browser_language(demo, make_client):
    reader = Reader()
    check_pay_pages(reader, make_client)
    check_sign_in_pages(reader, make_client)
    reader.assert_clean()


def check_error_pages(reader: Reader, make_client) -> None:
    """404 for a visitor and for a member, and the 403 that says who can change the member's role."""
    visitor = make_client()
    reader.check(visitor, "/no-such-page", "a visitor", status=404)
    member = make_client()
    member.login(f"member@{RETAIL}.example", DEMO_PASSWORD)
    reader.check(member, f"/o/{RETAIL}/no-such-page", "a member", status=404)
    forbidden = reader.check(member, f"/o/{RETAIL}/settings", "a member", status=403)
    assert any("ロール" in node for node in forbidden)


def test_the_other_error_pages_read_in_the_browsers_language(app):
    """429 and 500 through the same page; the 503 page of a database outage, which asks nobody's profile."""
    from flask import render_template

    from webapp.core.outage import outage_response

    words = {429: "しばらく待って", 500: "問題が発生しました"}
    for status, message in (
        (429, "Too many attempts. Wait a moment and try again."),
        (500, "Something went wrong on our side. It has been logged."),
    ):
        with app.test_request_context("/", headers={"Accept-Language": "ja"}):
            page = render_template("errors/error.html", status=status, message=message)
        assert message not in page and words[status] in page, status
    with app.test_request_context("/", headers={"Accept-Language": "ja"}):
        body, status, _headers = outage_response()
    assert status == 503 and "データベースに接続できません" in body and 'lang="ja"' in body
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        body, _status, _headers = outage_response()
    assert "cannot reach its database" in body and 'lang="en"' in body


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_the_suspension_e_mail_reads_in_its_owners_language(ctx, app, locale):
    from tests.billing.helpers import org_with_owner, staff_user
    from webapp.mail.models import EmailMessage
    from webapp.orgs.suspension import suspend_organization

    org, owner = org_with_owner(f"owner-{locale}@suspend.example")
    owner.locale = locale
    staff = staff_user()
    with app.test_request_context("/"):
        suspend_organization(org, staff, "Unpaid since March")
    message = db.session.scalar(
        select(EmailMessage).where(EmailMessage.template == "orgs/suspended", EmailMessage.to_address == owner.email)
    )
    assert message is not None
    if locale == "ja":
        assert message.subject == f"Tessera で {org.name} が停止されました"
        assert "を停止しました。理由:Unpaid since March" in message.text_body
        assert "データは削除されません" in message.html_body and 'lang="ja"' in message.html_body
        assert "suspended" not in message.html_body.replace(org.name, "")
    else:
        assert message.subject == f"{org.name} is suspended on Tessera"
        assert "The reason given: Unpaid since March" in message.text_body


def test_a_failed_payment_is_explained_in_the_payers_language(app):
    """The sentence a failed Paynow call leaves on the payment is stored in English (staff read it in
    the console); the payer reads the same failure in their own language."""
    from types import SimpleNamespace

    from flask_babel import force_locale

    from webapp.core.display import payer_message, provider_sentence

    with app.test_request_context("/"), force_locale("en"):
        stored = provider_sentence("paynow", "timeout", payment=True)
    assert stored == "Paynow did not answer in time; nothing was charged. Try again in a minute."
    failed = SimpleNamespace(provider="paynow", error_message=stored, status="FAILED")
    cancelled = SimpleNamespace(provider="paynow", error_message="cancelled", status="CANCELLED")
    with app.test_request_context("/", headers={"Accept-Language": "ja"}):
        assert payer_message(failed) == (
            "Paynow から時間内に応答がありませんでした。請求は発生していません。1分ほどしてからもう一度お試しください。"
        )
        assert payer_message(cancelled) == "Paynow でお支払いがキャンセルされました。請求は発生していません。"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert payer_message(failed) == stored
        assert payer_message(cancelled) == "The payment was cancelled at Paynow; nothing was charged."
