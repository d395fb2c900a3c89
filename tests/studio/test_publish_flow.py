"""Post now to all three platforms through the routes; each sandbox receives the real protocol."""

from sqlalchemy import select

from tests.studio.conftest import post_form, published_count
from webapp.extensions import db
from webapp.studio.models import Post, PublishedPost, PublishJob


def test_post_now_publishes_once_to_each_platform(creator, run_jobs, mailbox):
    response = creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator))
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    run_jobs()
    post = db.session.scalar(select(Post).where(Post.organization_id == creator.org.id))
    db.session.refresh(post)
    assert post.status == Post.PUBLISHED, [(t.platform, t.status, t.error_message) for t in post.targets]
    for target in post.targets:
        assert target.status == PublishJob.COMPLETED
        assert target.attempt_number == 1
        assert target.platform_post_id
    assert len(db.session.scalars(select(PublishedPost)).all()) == 3
    for platform in ("tiktok", "instagram", "youtube"):
        assert published_count(creator.client, platform) == 1
    page = creator.client.get(f"/o/{creator.slug}/studio/posts/{post.id}").get_data(as_text=True)
    assert "Published" in page
    from webapp.notifications.models import Notification

    notices = db.session.scalars(select(Notification).where(Notification.type == "post.published")).all()
    assert len(notices) == 3 and all(f"/studio/posts/{post.id}" in (n.link or "") for n in notices)
