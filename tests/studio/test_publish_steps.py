"""Each publishing step is its own job; a step delivered twice (a replay, a second worker) runs once."""

from datetime import timedelta

from sqlalchemy import select

from tests.factories import make_org, make_user
from tests.studio.sweep_samples import _post
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.studio.models import PublishJob
from webapp.studio.services import publishing


def test_a_step_delivered_twice_runs_once(ctx):
    user = make_user("steps@example.com")
    org = make_org(user, "Steps", "steps-co")
    post = _post(org, user)
    job = post.targets[0]
    job.status, job.due_at = PublishJob.PENDING, utcnow() - timedelta(seconds=1)
    db.session.commit()
    token = publishing.claim_one(job.id)
    assert token
    fresh = publishing._lease(job.id, token)
    assert fresh and fresh != token
    assert publishing._lease(job.id, token) is None  # the replayed delivery finds a stale token
    assert publishing.run(job.id, token, resume=True) is None
    assert db.session.scalar(select(PublishJob.claim_token).where(PublishJob.id == job.id)) == fresh


def test_the_next_step_of_a_started_target_goes_ahead_of_new_targets(creator, app):
    """Work under way finishes first: a step's follow-up job is put at the front of the publishing
    queue (RQ's at_front, carried by the outbox), ahead of targets that have not started."""
    from rq import SimpleWorker

    from tests.studio.conftest import post_form
    from webapp.jobs.models import JobOutbox
    from webapp.jobs.runner import get_queue
    from webapp.studio.models import Post

    for caption in ("First", "Second"):
        data = post_form(creator, platforms=("tiktok",), caption=caption)
        assert creator.client.post(f"/o/{creator.slug}/studio/posts/new", data).status_code == 303
    first, second = db.session.scalars(select(Post).order_by(Post.id)).all()
    queue = get_queue("publishing")
    assert [j.args[0] for j in queue.get_jobs()] == [first.targets[0].id, second.targets[0].id]
    SimpleWorker([queue], connection=queue.connection).work(burst=True, max_jobs=1)  # the first target's init
    waiting = queue.get_jobs()
    assert [(j.args[0], j.kwargs.get("resume", False)) for j in waiting] == [
        (first.targets[0].id, True),  # its upload, ahead of
        (second.targets[0].id, False),  # the target that has not started
    ]
    row = db.session.scalars(select(JobOutbox).order_by(JobOutbox.id.desc())).first()
    assert row.at_front and row.kwargs.get("resume") is True
