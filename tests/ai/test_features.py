"""AI features through the routes: workflow drafts (validated) and caption suggestions for the studio."""

import json

from sqlalchemy import func, select

from tests.factories import make_org, make_user
from webapp.ai import credits
from webapp.extensions import db
from webapp.workflows.models import Workflow


def _owner(client):
    owner = make_user()
    org = make_org(owner)
    client.login(owner.email)
    credits.balance_of(org)
    credits.adjust(org, owner, 500, "BONUS", "Test credits")
    db.session.commit()
    return owner, org


def test_describe_a_workflow_get_a_validated_draft_and_save_it(client, ctx):
    _, org = _owner(client)
    drafted = client.post(
        f"/o/{org.slug}/workflows/draft",
        {"description": "When a video is ready, post it to TikTok and YouTube and e-mail ops@example.com"},
    )
    assert drafted.status_code == 303, drafted.get_data(as_text=True)[:2000]  # post-redirect-get
    shown = client.get(drafted.location)
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200, page[:2000]
    assert "Schedule a post for a video" in page and "Send e-mail" in page and "video.ready" in page
    start = page.index('name="definition"')
    textarea = page[page.index(">", start) + 1 : page.index("</textarea>", start)]
    import html

    definition = json.loads(html.unescape(textarea))
    assert definition["trigger"] == {"type": "event", "event": "video.ready"}
    saved = client.post(
        f"/o/{org.slug}/workflows/draft/save", {"name": "Video to platforms", "definition": json.dumps(definition)}
    )
    assert saved.status_code == 303
    workflow = db.session.scalar(select(Workflow).where(Workflow.organization_id == org.id))
    assert [s.type for s in workflow.steps] == ["schedule_post", "send_email"]
    assert workflow.trigger_config == {"event": "video.ready"} and not workflow.enabled

    # a tampered definition is validated again on save
    bad = client.post(
        f"/o/{org.slug}/workflows/draft/save",
        {"name": "Bad", "definition": json.dumps({"steps": [{"type": "rm_rf", "config": {}}]})},
    )
    assert bad.status_code == 422 and "unknown step type" in bad.get_data(as_text=True)
    assert client.post(f"/o/{org.slug}/workflows/draft/save", {"name": "Bad", "definition": "{"}).status_code == 422


def test_caption_suggestions_fragment(client, ctx):
    _, org = _owner(client)
    answer = client.post(
        f"/o/{org.slug}/ai/caption-suggestions",
        {"title": "Sunrise over Harare rooftops", "topic": "timelapse"},
        htmx=True,
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" not in text
    assert "Sunrise over Harare rooftops — watch till the end!" in text and "#sunrise" in text
    empty = client.post(f"/o/{org.slug}/ai/caption-suggestions", {"title": ""}, htmx=True)
    assert empty.status_code == 422


def test_caption_suggestions_are_metered_under_their_own_service_and_a_failure_charges_nothing(
    client, make_client, ctx
):
    from webapp.ai.models import AiCreditBalance, AiUsageLog

    def balance():
        db.session.expire_all()
        return db.session.scalar(select(AiCreditBalance.balance).where(AiCreditBalance.organization_id == org.id))

    _, org = _owner(client)
    before = balance()
    answer = client.post(f"/o/{org.slug}/ai/caption-suggestions", {"title": "Market day", "topic": "food"}, htmx=True)
    assert answer.status_code == 200
    [log] = db.session.scalars(select(AiUsageLog).where(AiUsageLog.organization_id == org.id)).all()
    assert log.service == "CAPTION_SUGGESTIONS" and log.success and log.credits_used > 0
    assert balance() == before - log.credits_used
    charged = balance()
    failed = client.post(f"/o/{org.slug}/ai/caption-suggestions", {"title": "Market [sandbox:fail]"}, htmx=True)
    assert failed.status_code == 422
    assert balance() == charged
    logs = db.session.scalars(
        select(AiUsageLog).where(AiUsageLog.organization_id == org.id).order_by(AiUsageLog.id)
    ).all()
    assert [(x.service, x.success, x.credits_used) for x in logs[1:]] == [("CAPTION_SUGGESTIONS", False, 0)]
    # another organization's member asks under this organization's address: 404, nothing logged
    outsider = make_user()
    make_org(outsider)
    stranger = make_client()
    stranger.login(outsider.email)
    refused = stranger.post(f"/o/{org.slug}/ai/caption-suggestions", {"title": "Market day"}, htmx=True)
    assert refused.status_code == 404
    assert db.session.scalar(select(func.count(AiUsageLog.id)).where(AiUsageLog.organization_id == org.id)) == 2
