"""A studio action that loses a race is a clear refusal (a flash), never a 500 or a half-write."""

from tests.factories import make_org, make_user
from tests.races import lose_commits
from tests.studio.sweep_samples import _post
from webapp.extensions import db
from webapp.studio.models import Post


def test_a_post_cancel_that_loses_the_race_twice_is_a_flash_and_changes_nothing(client, ctx, monkeypatch):
    owner = make_user()
    org = make_org(owner)
    post = _post(org, owner)
    db.session.commit()
    client.login(owner.email)
    lost = lose_commits(monkeypatch, times=2)
    answer = client.post(f"/o/{org.slug}/studio/posts/{post.id}/cancel")
    assert answer.status_code == 303 and len(lost) == 2
    assert answer.headers["Location"].endswith(f"/studio/posts/{post.id}")
    assert "Someone else changed this" in client.get(f"/o/{org.slug}/studio/posts/{post.id}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == Post.DRAFT


def test_a_post_cancel_that_loses_once_is_run_again_and_cancels(client, ctx, monkeypatch):
    owner = make_user()
    org = make_org(owner)
    post = _post(org, owner)
    db.session.commit()
    client.login(owner.email)
    lost = lose_commits(monkeypatch, times=1)
    assert client.post(f"/o/{org.slug}/studio/posts/{post.id}/cancel").status_code == 303 and lost
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == Post.CANCELLED
