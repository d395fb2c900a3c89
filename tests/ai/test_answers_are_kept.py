"""An AI answer a form asked for is kept and shown by a GET: a reload shows it again without asking the
AI (nor charging), and one member's answer is never shown to another member or organization."""

from sqlalchemy import func, select

from tests.factories import add_member, make_org, make_user
from webapp.ai import credits
from webapp.extensions import db
from webapp.integrations.models import OutboundCall


def _ai_calls() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboundCall).where(OutboundCall.provider == "ai"))


def _org(client):
    owner = make_user()
    org = make_org(owner)
    credits.balance_of(org)
    credits.adjust(org, owner, 500, "BONUS", "Test credits")
    db.session.commit()
    client.login(owner.email)
    return owner, org


def test_a_workflow_draft_is_shown_by_a_get_and_a_reload_asks_the_ai_once(client, ctx, make_client):
    _owner, org = _org(client)
    drafted = client.post(f"/o/{org.slug}/workflows/draft", {"description": "When a video is ready, e-mail ops"})
    assert drafted.status_code == 303 and "result=" in drafted.location
    before = credits.balance_of(org).balance
    for _reload in range(3):
        page = client.get(drafted.location)
        assert page.status_code == 200 and "Save as workflow" in page.get_data(as_text=True)
    assert _ai_calls() == 1
    db.session.expire_all()
    assert credits.balance_of(org).balance == before

    # another admin of the same organization, or a stranger, does not see this member's draft
    admin = make_user()
    add_member(org, admin, "ADMIN")
    colleague = make_client()
    colleague.login(admin.email)
    assert "Save as workflow" not in colleague.get(drafted.location).get_data(as_text=True)
    stranger_owner = make_user()
    stranger_org = make_org(stranger_owner)
    stranger = make_client()
    stranger.login(stranger_owner.email)
    result = drafted.location.split("result=")[1]
    page = stranger.get(f"/o/{stranger_org.slug}/workflows/draft?result={result}")
    assert page.status_code == 200 and "Save as workflow" not in page.get_data(as_text=True)
    assert stranger.get(drafted.location).status_code == 404
    assert client.get(f"/o/{org.slug}/workflows/draft?result=not-a-number").status_code == 200


def test_a_caption_without_htmx_redirects_to_a_get_that_shows_it(client, ctx):
    _, org = _org(client)
    asked = client.post(f"/o/{org.slug}/ai/caption-suggestions", {"title": "Sunrise over Harare", "topic": "timelapse"})
    assert asked.status_code == 303
    for _reload in range(2):
        text = client.get(asked.location).get_data(as_text=True)
        assert "Sunrise over Harare — watch till the end!" in text and "#sunrise" in text
    assert _ai_calls() == 1
    # with htmx the region swaps in place, and the next answer replaces the kept one
    swapped = client.post(f"/o/{org.slug}/ai/caption-suggestions", {"title": "Rain in Kyoto"}, htmx=True)
    assert swapped.status_code == 200 and "Rain in Kyoto" in swapped.get_data(as_text=True)
    assert "Sunrise over Harare" not in client.get(asked.location).get_data(as_text=True)
    assert _ai_calls() == 2
