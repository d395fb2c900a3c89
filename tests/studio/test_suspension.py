"""An organization suspended by staff: its publish targets wait (neither claimed, published nor marked
missed), its engagement figures are not fetched, and on reactivation a target whose time passed is due
now instead of missed."""

from datetime import timedelta

from sqlalchemy import select, update

from tests.factories import make_user
from tests.studio.conftest import post_form
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.studio.models import Post, PublishJob


def test_publish_targets_wait_while_suspended_and_are_due_on_reactivation(creator, make_client):
    from webapp.studio.services import publishing

    make_user("ops@studio-pause.example", staff=True)
    staff = make_client()
    staff.login("ops@studio-pause.example")
    slug = creator.slug
    assert creator.client.post(f"/o/{slug}/studio/queue/times", {"weekday": 1, "at": "10:00"}).status_code == 303
    data = post_form(creator, action="draft", caption="Held back")
    assert creator.client.post(f"/o/{slug}/studio/posts/new", data).status_code == 303
    post = db.session.scalar(select(Post).where(Post.organization_id == creator.org.id).order_by(Post.id.desc()))
    assert creator.client.post(f"/o/{slug}/studio/posts/{post.id}/queue").status_code == 303
    past = utcnow() - timedelta(minutes=90)  # due, and even past the missed window
    db.session.execute(update(Post).where(Post.id == post.id).values(scheduled_at=past))
    db.session.execute(update(PublishJob).where(PublishJob.post_id == post.id).values(due_at=past))
    db.session.commit()
    ids = {t.id for t in db.session.scalars(select(PublishJob).where(PublishJob.post_id == post.id))}
    assert ids
    assert staff.post(f"/admin/orgs/{creator.org.id}/suspend", {"reason": "Review"}).status_code == 303
    assert publishing.mark_missed() == 0
    assert not ids & {job_id for job_id, _ in publishing.claim_due()}
    assert all(publishing.claim_one(i) is None for i in ids)
    db.session.expire_all()
    assert {t.status for t in db.session.scalars(select(PublishJob).where(PublishJob.id.in_(ids)))} == {
        PublishJob.PENDING
    }
    assert staff.post(f"/admin/orgs/{creator.org.id}/reactivate").status_code == 303
    db.session.expire_all()
    targets = db.session.scalars(select(PublishJob).where(PublishJob.id.in_(ids))).all()
    assert all(t.due_at > past + timedelta(minutes=60) for t in targets)  # moved to the reactivation
    assert publishing.mark_missed() == 0  # due now, not missed
    assert all(publishing.claim_one(i) is not None for i in ids)

    # Engagement figures: a suspended organization's published posts are not fetched from the platforms.
    from webapp.studio.models import PublishedPost
    from webapp.studio.services.metrics import due_posts

    published = PublishedPost(
        organization_id=creator.org.id,
        post_id=post.id,
        job_id=targets[0].id,
        video_id=creator.video.id,
        platform="tiktok",
        platform_post_id="sandbox-1",
    )
    db.session.add(published)
    db.session.commit()
    assert published.id in {p.id for p in due_posts()}
    assert staff.post(f"/admin/orgs/{creator.org.id}/suspend", {"reason": "Review again"}).status_code == 303
    assert published.id not in {p.id for p in due_posts()}
    assert staff.post(f"/admin/orgs/{creator.org.id}/reactivate").status_code == 303
    assert published.id in {p.id for p in due_posts()}
