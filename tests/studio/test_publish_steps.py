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
