"""Japanese, second share: the developers (webhooks), projects and tasks, files, referrals, AI, notification
preferences and address pages of the demo read in Japanese with nothing left in English, and their
e-mails are written in their reader's language.

The reader (text nodes, the catalogue's words, the demo's stored text, the check itself) is the one of
``test_japanese_pages``; these pages add only a few codes that read the same in any language."""

from __future__ import annotations

import re

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

# (who, the page): the pages this share translated, for each role that reads them ("" signs in nobody).
PAGES = [
    ("owner", RETAIL, "/o/{slug}/developers/webhooks"),
    ("owner", RETAIL, "{endpoint}"),
    ("owner", RETAIL, "{delivery}"),
    ("owner", RETAIL, "/o/{slug}/projects/"),
    ("member", RETAIL, "/o/{slug}/projects/"),
    ("owner", RETAIL, "{project}"),
    ("owner", RETAIL, "{project}?view=board"),
    ("member", RETAIL, "{task}"),
    ("owner", RETAIL, "{analysis}"),
    ("owner", RETAIL, "{propose}"),
    ("owner", RETAIL, "{proposal}"),
    ("owner", RETAIL, "/o/{slug}/files/"),
    ("member", RETAIL, "/o/{slug}/files/"),
    ("owner", RETAIL, "/o/{slug}/files/logo"),
    ("owner", RETAIL, "/o/{slug}/referrals/"),
    ("owner", CREATORS, "/o/{slug}/referrals/"),
    ("", RETAIL, "/r/harare-retail"),
    ("owner", RETAIL, "/o/{slug}/ai/"),
    ("member", RETAIL, "/o/{slug}/ai/"),
    ("owner", RETAIL, "/o/{slug}/ai/chat"),
    ("owner", RETAIL, "/o/{slug}/ai/documents"),
    ("owner", RETAIL, "{document}"),
    ("owner", CREATORS, "/o/{slug}/ai/"),
    ("owner", RETAIL, "/notifications/preferences"),
    ("member", CREATORS, "/notifications/preferences"),
    ("owner", RETAIL, "/o/{slug}/settings/address"),
]
# Codes and names that read the same in Japanese on these pages: a header's and a hash's names, a
# secret's prefix, a brand.
CODES = re.compile(r"\bTessera-Signature\b|\bMD5\b|\bHTTP \d{3}\b|\bPay[Pp]al\b|\bwhsec_\S*")


def _first(model, org_id, *where):
    return db.session.scalar(select(model).where(model.organization_id == org_id, *where).order_by(model.id).limit(1))


def page_urls(slug: str) -> dict[str, str]:
    """The demo's own rows behind the pages that show one (its first endpoint, project, task…)."""
    from webapp.ai.models import AiReport, AiTaskProposal
    from webapp.developers.models import WebhookDelivery, WebhookEndpoint
    from webapp.orgs.demo import demo_org
    from webapp.projects.models import Project, Task

    org = demo_org(slug)
    urls: dict[str, str] = {}
    endpoint = _first(WebhookEndpoint, org.id)
    if endpoint is not None:
        urls["endpoint"] = f"/o/{slug}/developers/webhooks/{endpoint.id}"
        delivery = _first(WebhookDelivery, org.id, WebhookDelivery.endpoint_id == endpoint.id)
        if delivery is not None:
            urls["delivery"] = f"{urls['endpoint']}/deliveries/{delivery.id}"
    project = _first(Project, org.id)
    if project is not None:
        urls["project"] = f"/o/{slug}/projects/{project.id}"
        urls["analysis"] = f"/o/{slug}/ai/projects/{project.id}/analysis"
        urls["propose"] = f"/o/{slug}/ai/projects/{project.id}/tasks"
        task = _first(Task, org.id, Task.project_id == project.id)
        if task is not None:
            urls["task"] = f"{urls['project']}/tasks/{task.id}"
    proposal = _first(AiTaskProposal, org.id)
    if proposal is not None:
        urls["proposal"] = f"/o/{slug}/ai/proposals/{proposal.id}"
    document = _first(AiReport, org.id, AiReport.kind == AiReport.DOCUMENT)
    if document is not None:
        urls["document"] = f"/o/{slug}/ai/documents/{document.id}"
    return urls


def analysed_document(slug: str) -> None:
    """A document analysis as the AI answers one (the demo has none): what the customer's document said."""
    from webapp.ai.models import AiReport
    from webapp.orgs.demo import demo_org

    db.session.add(
        AiReport(
            organization_id=demo_org(slug).id,
            kind=AiReport.DOCUMENT,
            title="Shop lease renewal.pdf",
            figures={"characters": 5400, "notes": []},
            narrative="The lease of the Avondale shop runs to March; the renewal asks for a deposit.",
            details={
                "source": "upload",
                "source_id": None,
                "key_dates": [{"date": "2027-03-31", "what": "The lease ends"}],
                "amounts": [{"amount": "USD 1,200.00", "what": "Deposit for the renewal"}],
                "tasks": [{"title": "Sign the renewal", "description": "", "due_in_days": 14}],
            },
            credits_used=3,
        )
    )
    db.session.commit()


def test_every_page_of_this_share_reads_in_japanese(demo, make_client):
    analysed_document(RETAIL)
    words = catalogue_words()
    stored = database_text()
    urls = {slug: page_urls(slug) for slug in (RETAIL, CREATORS)}
    clients = {}
    problems: dict[str, list[str]] = {}
    for role, slug, page in PAGES:
        names = re.findall(r"\{(\w+)\}", page)
        missing = [n for n in names if n != "slug" and n not in urls[slug]]
        assert not missing, f"the demo of {slug} has no {missing} for {page}"
        url = page.format(slug=slug, **urls[slug])
        if (role, slug) not in clients:
            clients[(role, slug)] = make_client()
            if role:
                clients[(role, slug)].login(f"{role}@{slug}.example", DEMO_PASSWORD)
        client = clients[(role, slug)]
        english = client.get(url, headers={"Accept-Language": "en"})
        japanese = client.get(url, headers={"Accept-Language": "ja,en;q=0.5"})
        if not english.status_code == japanese.status_code == 200:
            problems[f"{url} as {role or 'a visitor'}"] = [f"answered {english.status_code}, {japanese.status_code}"]
            continue
        english_nodes = [CODES.sub(" ", n) for n in text_nodes(english.get_data(as_text=True))]
        japanese_nodes = [CODES.sub(" ", n) for n in text_nodes(japanese.get_data(as_text=True))]
        assert set(japanese_nodes) != set(english_nodes), (role, url)  # the page did change language
        left = untranslated(japanese_nodes, words, stored, "\n".join(english_nodes))
        if left:
            problems[f"{url} as {role or 'a visitor'}"] = left
    assert not problems, "English left in Japanese pages:\n" + "\n".join(
        f"{where}:\n  " + "\n  ".join(found) for where, found in problems.items()
    )


def test_a_refusal_beside_its_field_reads_in_japanese(ctx, client):
    """A service's refusal marked for the catalogue is shown beside the field in the reader's language."""
    from tests.factories import make_org, make_user

    user = make_user(email="ren@example.com")
    org = make_org(owner=user)
    client.login(user.email)
    answer = client.post(
        f"/o/{org.slug}/developers/webhooks",
        {"url": "ftp://example.com/hook", "event_types": "invoice.paid"},
        headers={"Accept-Language": "ja"},
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "http:// または https:// から始まる完全な URL を入力してください。" in page
    assert "Enter a full http:// or https:// URL." not in page


def test_a_webhook_endpoint_disabled_e_mail_reads_in_its_recipients_language(ctx, app):
    """The endpoint-disabled e-mail goes to each member who manages webhooks, each in their own language."""
    from tests.factories import add_member, make_org, make_user
    from webapp.core.models import utcnow
    from webapp.developers import services
    from webapp.developers.models import WebhookEndpoint
    from webapp.mail.models import EmailMessage
    from webapp.settings import get

    owner = make_user(email="aoi@example.com")
    owner.locale = "ja"
    org = make_org(owner=owner)
    admin = make_user(email="sam@example.com")
    add_member(org, admin, "ADMIN")
    endpoint, _secret = services.create_endpoint(org, owner, "https://hooks.example.com/tessera", ["invoice.paid"])
    hours = get("webhooks.retry_window_hours")
    with app.test_request_context("/"):
        services.disable_failing(db.session.get(WebhookEndpoint, endpoint.id), utcnow())
    sent = {
        m.to_address: m
        for m in db.session.scalars(select(EmailMessage).where(EmailMessage.template == "developers/endpoint_disabled"))
    }
    english, japanese = sent["sam@example.com"], sent["aoi@example.com"]
    assert english.subject == f"Webhook endpoint disabled for {org.name}"
    assert f"every delivery to it failed for {hours} hours" in english.text_body
    assert japanese.subject == f"{org.name} の Webhook エンドポイントを無効にしました"
    assert f"{hours} 時間にわたりすべての配信が失敗したためです" in japanese.text_body
    assert 'lang="ja"' in japanese.html_body and "every delivery" not in japanese.html_body
