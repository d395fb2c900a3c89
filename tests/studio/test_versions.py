"""Per-platform versions through the composer: each target's own caption and hashtags, TikTok's
privacy and interaction settings, YouTube's title/description/tags/privacy and Instagram's first
comment reach the sandboxes over HTTP as sent; each platform's limits are checked with a message on
its field; the post page previews every version; saved hashtag groups."""

from sqlalchemy import func, select

from tests.factories import add_member, make_org, make_user
from tests.studio.conftest import post_form, sandbox_control
from webapp.extensions import db
from webapp.studio.models import HashtagGroup, Post, PublishJob


def _latest(org):
    post = db.session.scalar(select(Post).where(Post.organization_id == org.id).order_by(Post.id.desc()))
    if post is not None:
        db.session.refresh(post)
    return post


def _received(client, platform):
    """What the platform's sandbox recorded, post by post."""
    return list(sandbox_control(client, platform, posts=True)["posts"].values())


def _versions_form(creator, **extra):
    return post_form(
        creator,
        caption="Shared caption",
        hashtags="#shared #food",
        tiktok_caption="TikTok only: the 15-second cut",
        tiktok_hashtags="#fyp #recipe",
        tiktok_privacy="FOLLOWER_OF_CREATOR",
        tiktok_allow_comment="y",
        tiktok_allow_duet="y",
        instagram_caption="",
        instagram_hashtags="",
        instagram_first_comment="Recipe in the comments: oats, milk, honey #breakfast",
        youtube_title="Five-minute breakfast (Short)",
        youtube_description="Full recipe on the channel.",
        youtube_hashtags="#shorts",
        youtube_tags="breakfast, oats,  quick   recipe, Oats",
        youtube_privacy="unlisted",
        **extra,
    )


def test_each_platform_receives_its_own_version(creator, run_jobs):
    response = creator.client.post(f"/o/{creator.slug}/studio/posts/new", _versions_form(creator))
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    post = _latest(creator.org)
    page = creator.client.get(f"/o/{creator.slug}/studio/posts/{post.id}").get_data(as_text=True)
    # The preview before anything goes out: each platform's text as it will be sent.
    assert 'id="preview-tiktok"' in page and "TikTok only: the 15-second cut\n\n#fyp #recipe" in page
    assert "Shared caption\n\n#shared #food" in page  # Instagram uses the shared one
    assert "Five-minute breakfast (Short)" in page and "Tags: breakfast, oats, quick recipe" in page
    assert "Comments on · Duet on · Stitch off" in page and "Followers" in page
    assert "First comment:" in page
    run_jobs()
    post = _latest(creator.org)
    assert post.status == Post.PUBLISHED, [(t.platform, t.status, t.error_message) for t in post.targets]

    (tiktok,) = _received(creator.client, "tiktok")
    info = tiktok["post_info"]
    assert info["title"] == "TikTok only: the 15-second cut\n\n#fyp #recipe"
    assert info["privacy_level"] == "FOLLOWER_OF_CREATOR"
    assert (info["disable_comment"], info["disable_duet"], info["disable_stitch"]) == (False, False, True)

    (reel,) = _received(creator.client, "instagram")
    assert reel["caption"] == "Shared caption\n\n#shared #food"
    assert [c["message"] for c in reel["comments"]] == ["Recipe in the comments: oats, milk, honey #breakfast"]

    (short,) = _received(creator.client, "youtube")
    assert short["snippet"]["title"] == "Five-minute breakfast (Short)"
    assert short["snippet"]["description"] == "Full recipe on the channel.\n\n#shorts"
    assert short["snippet"]["tags"] == ["breakfast", "oats", "quick recipe"]
    assert short["status"]["privacyStatus"] == "unlisted"

    instagram = next(t for t in post.targets if t.platform == "INSTAGRAM")
    assert instagram.remote["comment_state"] == "sent" and instagram.remote["comment_id"]
    page = creator.client.get(f"/o/{creator.slug}/studio/posts/{post.id}").get_data(as_text=True)
    assert "(posted)" in page

    # The edit form shows each version again, and TikTok's settings as the creator chose them.
    edit = creator.client.get(f"/o/{creator.slug}/studio/posts/{post.id}/edit").get_data(as_text=True)
    assert "TikTok only: the 15-second cut" in edit and 'value="#fyp #recipe"' in edit
    assert 'value="breakfast, oats, quick recipe"' in edit


def test_first_comment_is_posted_once_even_when_its_answer_is_lost(creator, run_jobs):
    from webapp.studio.services import publishing

    sandbox_control(creator.client, "instagram", faults={"comment": ["unknown"]})
    data = _versions_form(creator, tiktok_account=None, youtube_account=None)
    assert creator.client.post(f"/o/{creator.slug}/studio/posts/new", data).status_code == 303
    run_jobs()
    post = _latest(creator.org)
    (target,) = post.targets
    assert target.status == PublishJob.COMPLETED  # the Reel is out; only the comment is in doubt
    assert target.remote["comment_state"] == "unknown"
    (reel,) = _received(creator.client, "instagram")
    assert len(reel["comments"]) == 1  # the sandbox took it, then the answer was lost
    page = creator.client.get(f"/o/{creator.slug}/studio/posts/{post.id}").get_data(as_text=True)
    assert "it may not have been posted; check the Reel" in page

    # A replayed step, or a run that finds the media published, does not comment again.
    publishing.run(target.id, target.claim_token or "stale")
    db.session.expire_all()
    target = db.session.get(PublishJob, target.id)
    target.status, target.claim_token = PublishJob.ACTIVE, "replay"
    db.session.commit()
    assert publishing.run(target.id, "replay") == PublishJob.COMPLETED
    (reel,) = _received(creator.client, "instagram")
    assert len(reel["comments"]) == 1
    assert sandbox_control(creator.client, "instagram")["published"] == 1


def test_a_refused_first_comment_is_said_plainly(creator, run_jobs):
    sandbox_control(creator.client, "instagram", faults={"comment": ["error"]})
    data = _versions_form(creator, tiktok_account=None, youtube_account=None)
    assert creator.client.post(f"/o/{creator.slug}/studio/posts/new", data).status_code == 303
    run_jobs()
    post = _latest(creator.org)
    (target,) = post.targets
    assert target.status == PublishJob.COMPLETED and target.remote["comment_state"] == "failed"
    page = creator.client.get(f"/o/{creator.slug}/studio/posts/{post.id}").get_data(as_text=True)
    assert "Instagram refused it" in page
    (reel,) = _received(creator.client, "instagram")
    assert reel["comments"] == []


def test_each_platforms_limits_are_checked_with_a_message_on_its_field(creator):
    data = post_form(
        creator,
        tiktok_caption="😀" * 1101,  # 1,101 characters, 2,202 UTF-16 code units: TikTok's count
        instagram_hashtags=" ".join(f"ig{i}" for i in range(31)),
        instagram_first_comment="c" * 2201,
        youtube_title="t" * 101,
        youtube_description="é" * 2501,  # 2,501 characters, 5,002 bytes
        youtube_tags=", ".join("tag" + "x" * 40 + str(i) for i in range(12)),
        tiktok_allow_stitch="y",  # the sandbox's creator has Stitch turned off
    )
    response = creator.client.post(f"/o/{creator.slug}/studio/posts/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # 2,202 code units and the shared hashtags
    assert "TikTok captions are at most 2,200 characters with the hashtags; this one has 2,221." in html
    assert "Instagram allows at most 30 hashtags; this has 31." in html
    assert "The first comment is at most 2,200 characters; this one has 2,201." in html
    assert "YouTube titles are at most 100 characters; this one has 101." in html
    assert "YouTube descriptions are at most 5,000 bytes with the hashtags; this one has" in html
    assert "YouTube tags are at most 500 characters in all" in html
    assert "This account has Stitch turned off in TikTok." in html
    assert db.session.scalar(select(func.count(Post.id))) == 0  # nothing half-saved

    hostile = post_form(creator, youtube_title="<script>", tiktok_hashtags="#ok #no-dash", youtube_tags="a, <b>")
    response = creator.client.post(f"/o/{creator.slug}/studio/posts/new", hostile)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "YouTube titles cannot contain &lt; or &gt;." in html
    assert "Hashtags are letters, digits and underscores only: #no-dash." in html
    assert "YouTube tags cannot contain &lt; or &gt;." in html


def test_composer_counts_under_the_csp(creator):
    response = creator.client.get(f"/o/{creator.slug}/studio/posts/new")
    html = response.get_data(as_text=True)
    assert '/static/js/composer.js"' in html
    assert 'data-counter="caption" data-caption="#tiktok_caption"' in html and 'data-limit="2200"' in html
    assert 'data-source="#youtube_title" data-limit="100"' in html and 'data-unit="bytes"' in html
    assert "<script>" not in html  # no inline script (script-src 'self')
    assert "script-src 'self'" in response.headers.get("Content-Security-Policy", "")
    script = creator.client.get("/static/js/composer.js")
    assert script.status_code == 200 and b"TextEncoder" in script.data
    script.close()


def test_hashtag_groups_are_saved_used_and_deleted(creator, make_client):
    slug = creator.slug
    created = creator.client.post(f"/o/{slug}/studio/hashtags", {"name": "Breakfast", "hashtags": "#oats honey"})
    assert created.status_code == 303
    duplicate = creator.client.post(f"/o/{slug}/studio/hashtags", {"name": "breakfast", "hashtags": "#x"})
    assert duplicate.status_code == 422 and "already a group with that name" in duplicate.get_data(as_text=True)
    bad = creator.client.post(f"/o/{slug}/studio/hashtags", {"name": "Bad", "hashtags": "#a-b"})
    assert bad.status_code == 422 and "letters, digits and underscores" in bad.get_data(as_text=True)
    empty = creator.client.post(f"/o/{slug}/studio/hashtags", {"name": "", "hashtags": ""})
    assert empty.status_code == 422 and "Give the group a name." in empty.get_data(as_text=True)
    group = db.session.scalar(select(HashtagGroup).where(HashtagGroup.organization_id == creator.org.id))
    assert group.hashtags == ["oats", "honey"]

    composer = creator.client.get(f"/o/{slug}/studio/posts/new").get_data(as_text=True)
    assert f'value="{group.id}"' in composer and 'data-tags="#oats #honey"' in composer
    data = post_form(creator, action="draft", hashtags="#breakfast #oats", hashtag_group=group.id)
    assert creator.client.post(f"/o/{slug}/studio/posts/new", data).status_code == 303
    assert _latest(creator.org).hashtags == ["breakfast", "oats", "honey"]  # added once each

    # Another organization's group: not usable, not deletable (404), not listed.
    other_owner = make_user("other@example.com")
    other = make_org(other_owner, "Other Co", "other-co")
    foreign = HashtagGroup(organization_id=other.id, name="Secret", hashtags=["secret"])
    db.session.add(foreign)
    db.session.commit()
    assert creator.client.post(f"/o/{slug}/studio/hashtags/{foreign.id}/delete").status_code == 404
    assert "Secret" not in creator.client.get(f"/o/{slug}/studio/hashtags").get_data(as_text=True)
    data = post_form(creator, action="draft", hashtags="#mine", hashtag_group=foreign.id)
    assert creator.client.post(f"/o/{slug}/studio/posts/new", data).status_code == 303
    assert _latest(creator.org).hashtags == ["mine"]

    billing = make_user("billing@example.com")
    add_member(creator.org, billing, "BILLING")
    billing_client = make_client()
    billing_client.login(billing.email)
    assert billing_client.post(f"/o/{slug}/studio/hashtags", {"name": "X", "hashtags": "#x"}).status_code == 403

    assert creator.client.post(f"/o/{slug}/studio/hashtags/{group.id}/delete").status_code == 303
    assert db.session.get(HashtagGroup, group.id) is None
    assert db.session.get(HashtagGroup, foreign.id) is not None


def test_demo_shows_versions_and_hashtag_groups_and_is_idempotent(creator, run_jobs):
    from datetime import date, timedelta
    from zoneinfo import ZoneInfo

    from webapp.studio.demo import _per_platform_versions

    day = date.today() + timedelta(days=9)
    for _ in range(2):
        _per_platform_versions(creator.org, creator.user, creator.video, day, ZoneInfo("Asia/Tokyo"))
        db.session.commit()
    assert [g.name for g in db.session.scalars(select(HashtagGroup).order_by(HashtagGroup.name))] == [
        "Kyoto food",
        "Travel Japan",
    ]
    (post,) = db.session.scalars(select(Post)).all()
    page = creator.client.get(f"/o/{creator.slug}/studio/posts/{post.id}").get_data(as_text=True)
    assert "POV: you have 60 seconds" in page and "Nishiki Market, Kyoto, in one minute #Shorts" in page
    assert "First comment:" in page and "Tags: kyoto, nishiki market, japanese street food" in page
    assert creator.client.get(f"/o/{creator.slug}/studio/posts/{post.id}/edit").status_code == 200
