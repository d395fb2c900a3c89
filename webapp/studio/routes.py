"""Studio pages: connections, videos, posts (composer, detail), calendar, analytics."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, after_this_request, flash, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from webapp.core.access import org_object_or_404, org_view
from webapp.core.errors import DomainError
from webapp.core.forms import EmptyForm, apply_error
from webapp.core.htmx import redirect, render
from webapp.core.models import utcnow
from webapp.core.pagination import page_arg, paginate
from webapp.core.transaction import flash_then, perform
from webapp.extensions import db
from webapp.integrations import oauth
from webapp.integrations.models import Connection
from webapp.storage import ObjectMissing, storage
from webapp.studio import bp
from webapp.studio.forms import (
    ApproveForm,
    MoveForm,
    PostForm,
    QueueSlotForm,
    RejectForm,
    RenameForm,
    RescheduleForm,
    StudioSettingsForm,
    UploadForm,
)
from webapp.studio.models import (
    PLATFORM_LABELS,
    PLATFORM_OF,
    PLATFORMS,
    PROVIDER_OF,
    Post,
    PublishedPost,
    PublishJob,
    QueueSlot,
    Video,
)
from webapp.studio.services import approvals, library, metrics, posts, timing, versions, videos
from webapp.studio.services import calendar as cal
from webapp.studio.services import queue as posting_queue
from webapp.studio.services.composer import draft_from_form, fill_form, form_choices, tiktok_creator_info


@bp.get("/")
@org_view("studio")
def index(org):
    return redirect(url_for("studio.calendar", slug=org.slug))


# ----------------------------------------------------------------------------- connections


@bp.get("/connections")
@org_view("studio")
def connections(org):
    rows = db.session.scalars(
        select(Connection)
        .where(Connection.organization_id == org.id, Connection.provider.in_(PROVIDER_OF.values()))
        .order_by(Connection.provider, Connection.id)
    ).all()
    return render("studio/connections.html", org=org, connections=rows, platform_of=PLATFORM_OF, platforms=PLATFORMS)


@bp.post("/connections/connect")
@org_view("studio")
def connect(org):
    platform = (request.form.get("platform") or "").upper()
    if platform not in PLATFORMS:
        flash("Choose TikTok, Instagram or YouTube.", "error")
        return redirect(url_for("studio.connections", slug=org.slug))
    back = url_for("studio.connections", slug=org.slug)
    return perform(
        lambda: oauth.begin_authorization(PROVIDER_OF[platform], org, current_user, return_to=back),
        then=redirect,
        failed=back,
    )


@bp.post("/connections/<int:connection_id>/disconnect")
@org_view("studio")
def disconnect(org, connection_id):
    conn = org_object_or_404(Connection, org, connection_id)
    if conn.provider not in PLATFORM_OF:
        abort(404)
    return perform(
        lambda: oauth.revoke(conn, current_user.user),
        then=url_for("studio.connections", slug=org.slug),
        success=f"{conn.account_name} is disconnected.",
        retry=False,  # the provider is told once
    )


# ----------------------------------------------------------------------------- videos


def _videos_page(org, form=None, status=200):
    """The video library: search by name, filter by status, sort by size, length or use."""
    args = request.args
    sort = args.get("sort", "newest") if args.get("sort") in library.SORTS else "newest"
    state = args.get("status", "") if args.get("status") in library.STATUSES else ""
    query = (args.get("q") or "").strip()[: library.MAX_QUERY]
    page = paginate(library.search(org, query, state, sort), page_arg(args.get("page")), rows=True)
    return render(
        "studio/videos.html",
        block="videos",
        org=org,
        page=page,
        used_in=library.posts_of([v.id for v, _, _ in page.items]),
        search={"q": query, "status": state, "sort": sort},
        sorts=library.SORTS,
        statuses=library.STATUSES,
        form=form or UploadForm(),
        status=status,
    )


@bp.get("/videos")
@org_view("studio")
def video_list(org):
    return _videos_page(org)


@bp.post("/videos")
@org_view("studio")
def upload(org):
    form = UploadForm()
    for spooled in request.files.values():
        after_this_request(_closing(spooled))
    if not form.validate_on_submit():
        return _videos_page(org, form, status=422)
    upload = form.file.data
    # retry=False: the upload's stream is read (and stored) once.
    return perform(
        lambda: videos.upload_video(org, current_user.user, upload.stream, upload.filename, form.title.data),
        then=lambda video: redirect(url_for("studio.video_detail", slug=org.slug, video_id=video.id)),
        success=lambda video: f"“{video.title}” is uploaded; checking it now.",
        form=form,
        field="file",
        failed=lambda _: _videos_page(org, form, status=422),
        retry=False,
    )


def _closing(upload):
    def close(response):
        upload.close()  # the spooled temporary file, now that it is in storage
        return response

    return close


@bp.get("/videos/<int:video_id>")
@org_view("studio")
def video_detail(org, video_id):
    video = org_object_or_404(Video, org, video_id)
    form = RenameForm(title=video.title)
    used_in = library.posts_of([video.id], limit=None).get(video.id, [])
    return render(
        "studio/video.html", block="video_status", org=org, video=video, form=form, button=EmptyForm(), used_in=used_in
    )


@bp.post("/videos/<int:video_id>/rename")
@org_view("studio")
def video_rename(org, video_id):
    video = org_object_or_404(Video, org, video_id)
    form = RenameForm()

    def page(_=None):
        used_in = library.posts_of([video.id], limit=None).get(video.id, [])
        return render(
            "studio/video.html", org=org, video=video, form=form, button=EmptyForm(), used_in=used_in, status=422
        )

    if not form.validate_on_submit():
        return page()
    return perform(
        lambda: videos.rename_video(video, current_user.user, form.title.data),
        then=url_for("studio.video_detail", slug=org.slug, video_id=video.id),
        success="Title saved.",
        form=form,
        field="title",
        failed=page,
    )


@bp.post("/videos/<int:video_id>/delete")
@org_view("studio")
def video_delete(org, video_id):
    video = org_object_or_404(Video, org, video_id)
    return perform(
        lambda: videos.delete_video(video, current_user.user),
        then=url_for("studio.video_list", slug=org.slug),
        success="Video deleted.",
        failed=url_for("studio.video_detail", slug=org.slug, video_id=video_id),
    )


@bp.get("/videos/<int:video_id>/thumbnail.jpg")
@org_view("studio")
def video_thumbnail(org, video_id):
    video = org_object_or_404(Video, org, video_id)
    if not video.thumbnail_key:
        abort(404)
    try:
        with storage().open(video.thumbnail_key) as handle:
            image = handle.read()  # a few kilobytes
    except ObjectMissing:
        abort(404)
    response = Response(image, mimetype="image/jpeg")
    response.cache_control.private, response.cache_control.max_age = True, 3600
    return response


# ----------------------------------------------------------------------------- posts


def _composer(org, form, post=None, status=200):
    info = tiktok_creator_info(org)
    form_choices(org, form, info)
    return render(
        "studio/post_form.html",
        org=org,
        form=form,
        post=post,
        creator_info=info,
        limits=versions.LIMITS,
        status=status,
    )


@bp.route("/posts/new", methods=["GET", "POST"])
@org_view("studio")
def post_new(org):
    form = PostForm()
    if request.method == "GET":
        fill_form(org, form, None, request.args)
        return _composer(org, form)
    return _save_post(org, form, None)


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@org_view("studio")
def post_edit(org, post_id):
    post = org_object_or_404(Post, org, post_id)
    form = PostForm()
    if request.method == "GET":
        fill_form(org, form, post, {})
        return _composer(org, form, post)
    return _save_post(org, form, post)


def _save_post(org, form, post):
    form_choices(org, form, None)
    action = request.form.get("action", "draft")
    if not form.validate_on_submit():
        return _composer(org, form, post, status=422)
    info = tiktok_creator_info(org)

    def refused(error):
        # A PostInvalid names several fields at once: each message goes beside its own field.
        for name, message in (getattr(error, "errors", None) or {error.field: error.message}).items():
            apply_error(form, DomainError(message, field=name))
        return _composer(org, form, post, status=422)

    return perform(
        lambda: posts.save_post(
            org, current_user.user, draft_from_form(org, form), action, post=post, creator_info=info
        ),
        then=lambda saved: redirect(url_for("studio.post_detail", slug=org.slug, post_id=saved.id)),
        success={"draft": "Draft saved.", "schedule": "Post scheduled.", "now": "Publishing now."}.get(action),
        failed=refused,
    )


@bp.get("/posts/<int:post_id>")
@org_view("studio")
def post_detail(org, post_id):
    return _post_page(org, org_object_or_404(Post, org, post_id))


def _post_page(org, post, *, form=None, published=None, approve_form=None, reject_form=None, status=200):
    if form is None:
        form = RescheduleForm()
        if post.scheduled_at:
            local = posts.utc_to_local(post.scheduled_at, post.timezone)
            form.schedule_date.data, form.schedule_time.data = (
                local.date(),
                local.time().replace(second=0, microsecond=0),
            )
    if published is None:
        published = {
            p.job_id: p for p in db.session.scalars(select(PublishedPost).where(PublishedPost.post_id == post.id))
        }
    return render(
        "studio/post.html",
        block="post",
        org=org,
        post=post,
        form=form,
        published=published,
        button=EmptyForm(),
        approve_form=approve_form or ApproveForm(formdata=None),
        reject_form=reject_form or RejectForm(formdata=None),
        time_passed=bool(post.scheduled_at and post.scheduled_at < utcnow()),
        previews={t.id: versions.version_for_job(t) for t in post.targets},
        tiktok_privacy=posts.TIKTOK_PRIVACY,
        status=status,
    )


# The notifications domain links to "studio.post"; same page.
bp.add_url_rule("/posts/<int:post_id>", endpoint="post", view_func=post_detail)


@bp.post("/posts/<int:post_id>/reschedule")
@org_view("studio")
def post_reschedule(org, post_id):
    post = org_object_or_404(Post, org, post_id)
    form = RescheduleForm()
    if form.validate_on_submit():
        when = posts.local_to_utc(form.schedule_date.data, form.schedule_time.data, post.timezone or org.timezone)
        return perform(
            lambda: posts.reschedule(post, current_user.user, when),
            then=url_for("studio.post_detail", slug=org.slug, post_id=post.id),
            success="Post moved.",
        )
    flash("Pick a date and a time.", "error")
    return redirect(url_for("studio.post_detail", slug=org.slug, post_id=post.id))


@bp.post("/posts/<int:post_id>/move")
@org_view("studio")
def post_move(org, post_id):
    """Drag and drop on the calendar: the post keeps its time of day and moves to ``day``."""
    post = org_object_or_404(Post, org, post_id)
    form = MoveForm()
    if not form.validate_on_submit():
        flash("That is not a day.", "error")
        return _calendar_or_redirect(org)
    return perform(
        lambda: posts.move_to_day(post, current_user.user, form.day.data),
        then=lambda _: _calendar_or_redirect(org),
        success="Post moved.",
        failed=flash_then(lambda: _calendar_or_redirect(org)),
    )


@bp.post("/posts/<int:post_id>/cancel")
@org_view("studio")
def post_cancel(org, post_id):
    post = org_object_or_404(Post, org, post_id)
    return perform(
        lambda: posts.cancel(post, current_user.user),
        then=url_for("studio.post_detail", slug=org.slug, post_id=post.id),
        success="Post cancelled.",
    )


@bp.post("/posts/<int:post_id>/targets/<int:target_id>/retry")
@org_view("studio")
def target_retry(org, post_id, target_id):
    post = org_object_or_404(Post, org, post_id)
    target = org_object_or_404(PublishJob, org, target_id)
    if target.post_id != post.id:
        abort(404)
    checked = request.form.get("checked") == "yes"
    return perform(
        lambda: posts.retry_target(target, current_user.user, checked=checked),
        then=url_for("studio.post_detail", slug=org.slug, post_id=post.id),
        success=f"Retrying {target.platform_label}.",
    )


# ----------------------------------------------------------------------------- approvals


def _after_decision(org, post):
    if request.headers.get("HX-Request") == "true" and request.form.get("from") == "calendar":
        return _calendar_page(org)
    return redirect(url_for("studio.post_detail", slug=org.slug, post_id=post.id))


def _decision_refused(org, post, *, approve_form=None, reject_form=None):
    def answer(error):
        if request.form.get("from") == "calendar":
            flash(error.message, "error")
            return _calendar_or_redirect(org)
        if error.field is None:  # not about the form (already decided, not an approver): say so on the page
            flash(error.message, "error")
            return redirect(url_for("studio.post_detail", slug=org.slug, post_id=post.id))
        form = approve_form if approve_form is not None else reject_form
        apply_error(form, error)
        return _post_page(org, post, approve_form=approve_form, reject_form=reject_form, status=422)

    return answer


@bp.post("/posts/<int:post_id>/approve")
@org_view("studio_approve")
def post_approve(org, post_id):
    post = org_object_or_404(Post, org, post_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        return _post_page(org, post, approve_form=form, status=422)
    when = None
    if form.schedule_date.data and form.schedule_time.data:
        when = posts.local_to_utc(form.schedule_date.data, form.schedule_time.data, post.timezone or org.timezone)
    elif form.schedule_date.data or form.schedule_time.data:
        form.schedule_date.errors = ["Pick both a date and a time (or neither)."]
        return _post_page(org, post, approve_form=form, status=422)
    return perform(
        lambda: approvals.approve(org, post, current_user.user, when),
        then=lambda _: _after_decision(org, post),
        success="Approved; it is scheduled.",
        failed=_decision_refused(org, post, approve_form=form),
    )


@bp.post("/posts/<int:post_id>/reject")
@org_view("studio_approve")
def post_reject(org, post_id):
    post = org_object_or_404(Post, org, post_id)
    form = RejectForm()
    if not form.validate_on_submit():
        if request.form.get("from") == "calendar":
            flash("Say what should change.", "error")
            return _calendar_or_redirect(org)
        return _post_page(org, post, reject_form=form, status=422)
    return perform(
        lambda: approvals.reject(org, post, current_user.user, form.comment.data),
        then=lambda _: _after_decision(org, post),
        success="Sent back to the author with your comment.",
        failed=_decision_refused(org, post, reject_form=form),
    )


@bp.route("/settings", methods=["GET", "POST"])
@org_view("studio_approve")
def studio_settings(org):
    current = approvals.settings_for(org)
    form = StudioSettingsForm(approval_required=current.approval_required)
    if request.method == "POST":
        if not form.validate_on_submit():
            return render("studio/settings.html", org=org, form=form, status=422)
        return perform(
            lambda: approvals.set_approval_required(org, current_user.user, form.approval_required.data),
            then=url_for("studio.studio_settings", slug=org.slug),
            success="Studio settings saved.",
        )
    return render("studio/settings.html", org=org, form=form)


# ----------------------------------------------------------------------------- posting queue


def _queue_page(org, slot_form=None, status=200):
    form = slot_form or QueueSlotForm(formdata=None)
    accounts = db.session.scalars(
        select(Connection)
        .where(Connection.organization_id == org.id, Connection.provider.in_(PROVIDER_OF.values()))
        .order_by(Connection.provider, Connection.id)
    ).all()
    form.connection_id.choices = [("", _l("Every account"))] + [
        (str(c.id), f"{PLATFORM_LABELS[PLATFORM_OF[c.provider]]} @{c.account_name}") for c in accounts
    ]
    return render(
        "studio/queue.html",
        org=org,
        slots=posting_queue.slots(org),
        queued=posting_queue.queued(org),
        paused=approvals.settings_for(org).queue_paused,
        weekdays=posting_queue.WEEKDAYS,
        best_times=timing.best_times(org),
        slot_form=form,
        button=EmptyForm(),
        status=status,
    )


@bp.get("/queue")
@org_view("studio")
def queue(org):
    return _queue_page(org)


@bp.post("/queue/times")
@org_view("studio_approve")
def queue_time_add(org):
    form = QueueSlotForm()
    if not form.validate_on_submit():
        return _queue_page(org, form, status=422)
    raw = form.connection_id.data or ""
    if raw and not raw.isdigit():
        form.connection_id.errors = ["Choose one of your accounts, or all of them."]
        return _queue_page(org, form, status=422)
    return perform(
        lambda: posting_queue.add_slot(
            org, current_user.user, form.weekday.data, form.at.data, int(raw) if raw else None
        ),
        then=url_for("studio.queue", slug=org.slug),
        success="Posting time added; queued posts are re-slotted.",
        form=form,
        failed=lambda _: _queue_page(org, form, status=422),
    )


@bp.post("/queue/times/<int:slot_id>/delete")
@org_view("studio_approve")
def queue_time_delete(org, slot_id):
    slot = org_object_or_404(QueueSlot, org, slot_id)
    return perform(
        lambda: posting_queue.remove_slot(org, current_user.user, slot),
        then=url_for("studio.queue", slug=org.slug),
        success="Posting time removed; queued posts are re-slotted.",
    )


@bp.post("/queue/<any(pause, resume):action>")
@org_view("studio_approve")
def queue_pause(org, action):
    return perform(
        lambda: posting_queue.set_paused(org, current_user.user, action == "pause"),
        then=url_for("studio.queue", slug=org.slug),
        success="The queue is paused." if action == "pause" else "The queue is running again.",
    )


@bp.post("/posts/<int:post_id>/queue")
@org_view("studio")
def post_queue(org, post_id):
    post = org_object_or_404(Post, org, post_id)
    return perform(
        lambda: posting_queue.add(org, post, current_user.user),
        then=url_for("studio.post_detail", slug=org.slug, post_id=post.id),
        success="Added to the queue.",
    )


@bp.post("/posts/<int:post_id>/queue/<any(up, down):direction>")
@org_view("studio_approve")
def post_queue_move(org, post_id, direction):
    post = org_object_or_404(Post, org, post_id)
    return perform(
        lambda: posting_queue.move(org, post, current_user.user, direction),
        then=url_for("studio.queue", slug=org.slug) + f"#queued-{post.id}",
        success="Moved " + ("earlier." if direction == "up" else "later."),
    )


@bp.post("/posts/<int:post_id>/queue/position")
@org_view("studio_approve")
def post_queue_position(org, post_id):
    """Drag and drop on the queue page (static/js/queue.js): the post takes place ``position``."""
    post = org_object_or_404(Post, org, post_id)
    back = url_for("studio.queue", slug=org.slug)
    if request.headers.get("HX-Request") != "true":  # htmx follows with a full load (a fragment alone would not)
        back += f"#queued-{post.id}"
    position = request.form.get("position", "")
    if not (position.isascii() and position.isdigit()) or len(position) > 6:  # "²" is a digit to str.isdigit
        flash("Choose a place in the queue (a number).", "error")
        return redirect(back)
    return perform(
        lambda: posting_queue.move_to(org, post, current_user.user, int(position)),
        then=back,
        success=f"Moved to place {int(position)}.",
        failed=back,
    )


# ----------------------------------------------------------------------------- calendar and analytics


def _calendar_args(org):
    args = request.args
    view = args.get("view") if args.get("view") in ("month", "week", "list") else "month"
    try:
        anchor = date.fromisoformat(args.get("start", "")) if args.get("start") else cal.today_in(org)
    except ValueError:
        anchor = cal.today_in(org)
    status = args.get("status") if args.get("status") in Post.STATUSES else None
    platform = args.get("platform") if args.get("platform") in PLATFORMS else None
    return view, anchor, {"status": status, "platform": platform}


def _calendar_page(org):
    view, anchor, filters = _calendar_args(org)
    if view == "list":
        data = {"posts": cal.listing(org, **filters)}
    else:
        data = (cal.month if view == "month" else cal.week)(org, anchor, **filters)
    return render(
        "studio/calendar.html",
        block="calendar",
        org=org,
        view=view,
        data=data,
        filters=filters,
        platforms=PLATFORMS,
        statuses=Post.STATUSES,
        today=cal.today_in(org),
        move_form=MoveForm(),
        reject_form=RejectForm(formdata=None),
    )


def _calendar_or_redirect(org):
    if request.headers.get("HX-Request") == "true":
        return _calendar_page(org)
    return redirect(request.referrer or url_for("studio.calendar", slug=org.slug))


@bp.get("/calendar")
@org_view("studio")
def calendar(org):
    return _calendar_page(org)


@bp.get("/posts")
@org_view("studio")
def analytics(org):
    rows = db.session.scalars(
        select(PublishedPost)
        .where(PublishedPost.organization_id == org.id)
        .order_by(PublishedPost.published_at.desc())
        .limit(200)
    ).all()
    charts = {p: metrics.views_chart(org, p) for p in PLATFORMS}
    return render("studio/posts.html", org=org, published=rows, charts=charts, per_platform=metrics.per_platform(org))
