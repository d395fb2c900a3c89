"""Japanese: every customer and creator page of the demo reads in Japanese, with nothing left in English.

The demo is seeded; each page is rendered as a demo user twice, once with the browser asking for
English and once for Japanese. A run of ASCII words in a text node of the Japanese page fails when it
holds a word of the English catalogue (the ``msgid``s of ``messages.po``) or reads the same on the
English page (a string nobody marked), unless the run is data (found in the database: names,
subjects, captions the customers typed) or only names and codes of the short allow-list, which read
the same in both languages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from babel.messages.pofile import read_po
from sqlalchemy import JSON, String, Text, select

from webapp.core.i18n import TRANSLATIONS
from webapp.extensions import db

DEMO_PASSWORD = "tessera-demo-1"
RETAIL = "harare-retail"
CREATORS = "kyoto-creators"
# (who, the page): the pages this branch translated, for each role that reads them.
PAGES = [
    ("owner", RETAIL, "/o/{slug}/"),
    ("billing", RETAIL, "/o/{slug}/"),
    ("member", RETAIL, "/o/{slug}/"),
    ("owner", RETAIL, "/o/{slug}/subscription"),
    ("billing", RETAIL, "/o/{slug}/subscription"),
    ("owner", RETAIL, "/o/{slug}/billing/"),
    ("billing", RETAIL, "/o/{slug}/billing/invoices"),
    ("owner", RETAIL, "{invoice}"),
    ("billing", RETAIL, "/o/{slug}/billing/payments"),
    ("owner", RETAIL, "/o/{slug}/api-keys"),
    ("owner", RETAIL, "/o/{slug}/usage"),
    ("owner", RETAIL, "/o/{slug}/integrations/"),
    ("owner", CREATORS, "/o/{slug}/integrations/"),
    ("member", RETAIL, "/o/{slug}/support/"),
    ("member", RETAIL, "/o/{slug}/support/new"),
    ("owner", RETAIL, "{ticket}"),
    ("owner", RETAIL, "/o/{slug}/workflows/"),
    ("owner", RETAIL, "/o/{slug}/settings"),
    ("owner", RETAIL, "/account/"),
    ("owner", RETAIL, "/o/{slug}/members"),
    ("owner", RETAIL, "/notifications/"),
    ("billing", RETAIL, "/o/{slug}/billing/credits"),
    ("owner", RETAIL, "/o/{slug}/billing/payment-methods"),
    ("owner", CREATORS, "/o/{slug}/"),
    ("owner", CREATORS, "/o/{slug}/studio/calendar"),
    ("owner", CREATORS, "/o/{slug}/studio/calendar?view=list"),
    ("owner", CREATORS, "/o/{slug}/studio/queue"),
    ("owner", CREATORS, "/o/{slug}/studio/videos"),
    ("owner", CREATORS, "{video}"),
    ("owner", CREATORS, "/o/{slug}/studio/posts"),
    ("owner", CREATORS, "{post}"),
    ("owner", CREATORS, "/o/{slug}/studio/posts/new"),
    ("owner", CREATORS, "/o/{slug}/studio/connections"),
    ("owner", CREATORS, "/o/{slug}/studio/settings"),
    ("member", CREATORS, "/o/{slug}/studio/calendar"),
]
# Names and codes that read the same in Japanese.
ALLOWED = {
    "tessera",
    "usd",
    "zwg",
    "jpy",
    "api",
    "pdf",
    "csv",
    "url",
    "stripe",
    "paynow",
    "freee",
    "ecocash",
    "innbucks",
    "onemoney",
    "visa",
    "mastercard",
    "google",
    "drive",
    "youtube",
    "tiktok",
    "instagram",
    "oauth",
    "html",
    "cat",
    "jst",
    "utc",
    "english",
    "webhook",
    "json",
    "fps",
    "stitch",
    "duet",
    "tsk",
    "png",
    "jpeg",
    "webp",
    "gif",
    "http",
    "smtp",
    "bearer",
    "basic",
}
SKIPPED = {"script", "style", "svg"}


class TextNodes(HTMLParser):
    """The visible text nodes of a page (not scripts, styles or chart drawings)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in SKIPPED and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skip:
            self.nodes.append(text)


def text_nodes(html: str) -> list[str]:
    reader = TextNodes()
    reader.feed(html)
    reader.close()
    return reader.nodes


def catalogue_words() -> set[str]:
    with open(f"{TRANSLATIONS}/ja/LC_MESSAGES/messages.po", "rb") as source:
        catalog = read_po(source)
    words = set()
    for message in catalog:
        for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
            text = re.sub(r"%\(\w+\)s", " ", msgid or "")
            words |= {w.lower() for w in re.findall(r"[A-Za-z]{3,}", text)}
    return words - ALLOWED


def strings_in(value) -> list[str]:
    """The strings of a column value; a list also as the page joins it ("kyoto, japanfood")."""
    if isinstance(value, dict):
        return [text for v in value.values() for text in strings_in(v)]
    if isinstance(value, (list, tuple)):
        return [", ".join(str(v) for v in value)] + [text for v in value for text in strings_in(v)]
    return [str(value)] if value else []


def database_text() -> str:
    """Every string the demo stored: what customers and the demo typed is data, shown as typed."""
    parts = []
    for table in db.metadata.sorted_tables:
        if "email" in table.name or "audit" in table.name:
            continue  # what the product wrote in English about itself, not what customers typed
        columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        if columns:
            for row in db.session.execute(select(*columns)):
                for value in row:
                    parts.extend(strings_in(value))
    from webapp.billing.issuer import issuer_details

    issuer = issuer_details()  # the seller's own name and address, from the settings
    parts.extend([issuer["name"], *issuer["address_lines"]])
    return "\n".join(parts)


# A run of English: words of letters joined by spaces and light punctuation (digits, brackets and
# Japanese end it).
ASCII_RUN = re.compile(r"[A-Za-z][A-Za-z'\u2019\-]*(?:[ ,.&+]+[A-Za-z][A-Za-z'\u2019\-]*)*")
# Codes that read the same in any language: URLs with their method, scopes and event names
# ("usage:read", "connection.expired"), identifiers and zone keys ("tsk_…", "Europe/London"), and an
# HTTP method on its own, in capitals (a step's "PATCH"; a "Delete" button is still English).
CODES = re.compile(
    r"\b(?:GET|POST|PUT|PATCH|DELETE) https?://\S+|https?://\S+|\S*[A-Za-z][:_/.][A-Za-z]\S*|#[A-Za-z]\w*|(?<!\w)\.\w+"
    r"|\b(?:GET|HEAD|POST|PUT|PATCH|DELETE)\b"
)


def untranslated(nodes: list[str], words: set[str], stored: str, english: str = "") -> list[str]:
    """The runs of English in ``nodes`` that are neither data (``stored``) nor allowed names."""
    found = []
    for node in nodes:
        for run in ASCII_RUN.findall(CODES.sub(" ", node)):
            tokens = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", run)}
            if not tokens - ALLOWED or run in stored:
                continue
            if tokens & words or run in english:
                found.append(f"{run!r} in {node!r}")
    return found


def test_the_reader_finds_english_left_in_a_japanese_page():
    nodes = text_nodes("<p>請求書 <b>Pay now</b></p><script>var paid = 1;</script><p>Harare Retail の請求書</p>")
    assert nodes == ["請求書", "Pay now", "Harare Retail の請求書"]
    assert untranslated(nodes, {"pay", "now", "retail"}, "Harare Retail") == ["'Pay now' in 'Pay now'"]
    # A string nobody marked is caught by reading the same on the English page.
    assert untranslated(["Leave soon"], set(), "", "Leave soon\nStay") == ["'Leave soon' in 'Leave soon'"]
    assert untranslated(["USD 12.00 · JST"], {"usd"}, "", "USD 12.00 · JST") == []
    # Codes are not English: a URL with its method, a scope, an event name, a zone key.
    codes = [
        "GET https://x.example/v1/files",
        "usage:read — 利用集計",
        "イベント · connection.expired",
        "Europe/London",
    ]
    assert untranslated(codes, {"get", "usage", "read", "connection", "expired", "europe", "files"}, "", "") == []


def first_ticket_url(slug: str) -> str:
    from webapp.orgs.demo import demo_org
    from webapp.support.models import SupportTicket

    ticket = db.session.scalar(select(SupportTicket).where(SupportTicket.organization_id == demo_org(slug).id).limit(1))
    return f"/o/{slug}/support/{ticket.id}"


def first_video_url(slug: str) -> str:
    from webapp.orgs.demo import demo_org
    from webapp.studio.models import Video

    video = db.session.scalar(select(Video).where(Video.organization_id == demo_org(slug).id).limit(1))
    return f"/o/{slug}/studio/videos/{video.id}"


def first_post_url(slug: str) -> str:
    from webapp.orgs.demo import demo_org
    from webapp.studio.models import Post

    post = db.session.scalar(select(Post).where(Post.organization_id == demo_org(slug).id).limit(1))
    return f"/o/{slug}/studio/posts/{post.id}"


def first_invoice_url(slug: str) -> str:
    from webapp.billing.models import Invoice
    from webapp.orgs.demo import demo_org

    invoice = db.session.scalar(
        select(Invoice).where(Invoice.organization_id == demo_org(slug).id, Invoice.number.is_not(None)).limit(1)
    )
    return f"/o/{slug}/billing/invoices/{invoice.id}"


def test_every_translated_page_of_the_demo_reads_in_japanese(demo, make_client):
    words = catalogue_words()
    assert len(words) > 200  # the catalogue is a real one, so the check has words to look for
    stored = database_text()
    clients = {}
    problems: dict[str, list[str]] = {}
    for role, slug, page in PAGES:
        url = page.format(
            slug=slug,
            invoice=first_invoice_url(slug) if "{invoice}" in page else "",
            ticket=first_ticket_url(slug) if "{ticket}" in page else "",
            video=first_video_url(slug) if "{video}" in page else "",
            post=first_post_url(slug) if "{post}" in page else "",
        )
        if (role, slug) not in clients:
            clients[(role, slug)] = make_client()
            clients[(role, slug)].login(f"{role}@{slug}.example", DEMO_PASSWORD)
        client = clients[(role, slug)]
        english = client.get(url, headers={"Accept-Language": "en"})
        japanese = client.get(url, headers={"Accept-Language": "ja,en;q=0.5"})
        assert english.status_code == japanese.status_code == 200, (role, url, english.status_code)
        english_nodes = text_nodes(english.get_data(as_text=True))
        japanese_nodes = text_nodes(japanese.get_data(as_text=True))
        assert set(japanese_nodes) != set(english_nodes), (role, url)  # the page did change language
        left = untranslated(japanese_nodes, words, stored, "\n".join(english_nodes))
        if left:
            problems[f"{url} as {role}"] = left
    assert not problems, "English left in Japanese pages:\n" + "\n".join(
        f"{where}:\n  " + "\n  ".join(found) for where, found in problems.items()
    )


def test_a_person_chooses_their_language_on_their_profile(ctx, client):
    from tests.factories import make_user

    user = make_user(email="hana@example.com")
    client.login(user.email)
    # No choice yet: the browser's Accept-Language decides.
    assert "アカウント" in client.get("/account/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "Your account" in client.get("/account/", headers={"Accept-Language": "ja;q=0.1,en"}).get_data(as_text=True)
    saved = client.post("/account/profile", {"name": "Hana", "locale": "ja"})
    assert saved.status_code == 303
    page = client.get("/account/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "アカウント" in page and "Your account" not in page
    refused = client.post("/account/profile", {"name": "Hana", "locale": "xx"})
    assert refused.status_code != 303  # a language we do not have is refused on the form
    db.session.refresh(user)
    assert user.locale == "ja"


def test_an_invoice_e_mail_reads_in_its_recipients_language(ctx, app):
    """The invoice e-mail goes to the organization's address and reads in its owner's language."""
    from tests.billing.helpers import make_invoice, org_with_owner
    from webapp.billing.jobs import _email_invoice
    from webapp.mail.models import EmailMessage

    org, owner = org_with_owner("keiko@example.com")
    invoice = make_invoice(org)
    with app.test_request_context("/"):
        _email_invoice(invoice, "issued")
        owner.locale = "ja"
        _email_invoice(invoice, "issued")
    *_earlier, english, japanese = db.session.scalars(
        select(EmailMessage)
        .where(EmailMessage.about_id == invoice.id, EmailMessage.template == "billing/issued")
        .order_by(EmailMessage.id)
    ).all()
    assert english.subject.startswith(f"Invoice {invoice.number} from Tessera: USD ")
    assert "is ready" in english.text_body and "See invoice" in english.html_body
    assert japanese.subject.startswith(f"Tessera からの請求書 {invoice.number}:$")
    assert "年" in japanese.subject  # the due date as a Japanese date
    assert "を発行しました" in japanese.text_body and "請求書を見る" in japanese.text_body
    assert 'lang="ja"' in japanese.html_body and "is ready" not in japanese.html_body


def test_a_computed_text_is_translated_but_neither_formatted_nor_trusted(app):
    """A flash message or stored label goes through ``translated``: looked up in the catalogue, still
    escaped, and a "%" in it is only a character."""
    from flask import render_template_string

    with app.test_request_context("/", headers={"Accept-Language": "ja"}):
        page = render_template_string("{{ translated(a) }}|{{ translated(b) }}", a="Profile saved.", b="50% <b>off</b>")
    assert page == "プロフィールを保存しました。|50% &lt;b&gt;off&lt;/b&gt;"


def test_a_calendar_day_is_written_as_is_in_either_language(app):
    """The date filters take a plain ``date`` too (a freee sync's "since" day): no zone to convert, the
    day the person chose, in the reader's way of writing it."""
    from datetime import date

    from flask import render_template_string

    for language, shown in (("en", "2026-03-01|1 Mar 2026"), ("ja", "2026/03/01|2026年3月1日")):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            page = render_template_string("{{ d | date }}|{{ d | dt('%-d %b %Y') }}", d=date(2026, 3, 1))
        assert page == shown, language
