"""Atomic claims and quota under real concurrency (PostgreSQL: row locks, SKIP LOCKED)."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_org, make_user
from tests.studio.sweep_samples import _post
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.studio.models import PublishJob, YouTubeQuota


def _in_threads(app, count, work):
    results, errors = [], []
    barrier = threading.Barrier(count)

    def run():
        with app.app_context():
            try:
                barrier.wait()
                results.append(work())
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


@pytest.mark.postgres
def test_due_targets_are_claimed_exactly_once_by_concurrent_claimers(app, ctx):
    user = make_user("claims@example.com")
    org = make_org(user, "Claims", "claims-co")
    for _ in range(40):
        post = _post(org, user)
        post.targets[0].status = PublishJob.PENDING
        post.targets[0].due_at = utcnow() - timedelta(seconds=5)
    db.session.commit()
    db.session.remove()
    from webapp.studio.services.publishing import claim_due

    def work():
        mine = []
        while batch := claim_due(limit=3):
            mine.extend(i for i, _ in batch)
        return mine

    claimed = [i for chunk in _in_threads(app, 8, work) for i in chunk]
    assert len(claimed) == 40 and len(set(claimed)) == 40
    statuses = set(db.session.scalars(select(PublishJob.status)))
    assert statuses == {PublishJob.ACTIVE}


@pytest.mark.postgres
def test_youtube_quota_is_never_overspent(app, ctx):
    from tests.studio.conftest import set_settings
    from webapp.studio.services import quota

    set_settings(youtube_upload_quota=10000)
    db.session.remove()

    def work():
        ok = quota.consume("upload", 1600)
        db.session.commit()
        return ok

    results = _in_threads(app, 12, work)
    assert results.count(True) == 6
    assert db.session.scalar(select(YouTubeQuota.used).where(YouTubeQuota.bucket == "upload")) == 9600


def test_quota_day_follows_pacific_midnight():
    from datetime import UTC, datetime

    from webapp.studio.services.quota import next_reset, quota_day

    # 07:59 UTC on 15 January is 23:59 the day before in Los Angeles (UTC-8)
    assert quota_day(datetime(2027, 1, 15, 7, 59, tzinfo=UTC)) == "2027-01-14"
    assert quota_day(datetime(2027, 1, 15, 8, 0, tzinfo=UTC)) == "2027-01-15"
    # in summer the reset is at 07:00 UTC (UTC-7)
    assert next_reset(datetime(2027, 7, 1, 12, 0, tzinfo=UTC)) == datetime(2027, 7, 2, 7, 0, tzinfo=UTC)
