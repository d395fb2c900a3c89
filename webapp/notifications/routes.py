"""The bell, the list, preferences, and the live stream (server-sent events over Redis pub/sub)."""

from __future__ import annotations

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.core.htmx import redirect, render
from webapp.core.pagination import page_arg, paginate
from webapp.core.transaction import perform
from webapp.notifications import admin_bp, bp, digest, live
from webapp.notifications import services as notes
from webapp.settings import get


@bp.get("/")
@login_required
def index():
    unread_only = request.args.get("show") == "unread"
    page = paginate(notes.list_for(current_user.id, unread_only), page_arg(request.args.get("page")), 30)
    return render(
        "notifications/index.html",
        block="notification_list",
        page=page,
        unread_only=unread_only,
        unread=notes.unread_count(current_user.id),
    )


@bp.get("/count")
@login_required
def count():
    return render_template("notifications/_count.html", unread=notes.unread_count(current_user.id))


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id):
    def followed(row):
        if request.form.get("follow") and row.link and row.link.startswith("/") and not row.link.startswith("//"):
            return redirect(row.link)
        return redirect(url_for("notifications.index"))

    return perform(lambda: notes.mark_read(current_user.id, notification_id), then=followed)


@bp.post("/read-all")
@login_required
def read_all():
    return perform(
        lambda: notes.mark_all_read(current_user.id),
        then=url_for("notifications.index"),
        success=lambda marked: _("Marked %(count)s as read.", count=marked) if marked else _("Nothing unread."),
    )


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    types = notes.types_for(current_user.is_staff)

    def page(error=None):
        return render(
            "notifications/preferences.html",
            types=types,
            chosen=notes.preferences_of(current_user.id),
            channels=notes.CHANNELS,
            daily_digest=digest.digest_enabled(current_user.id),
            error=error.message if error else None,
            status=422 if error else 200,
        )

    if request.method != "POST":
        return page()
    choices = {t.name: request.form.get(t.name, "") for t in types}

    def save():
        notes.set_preferences(current_user.id, choices)
        digest.set_digest(current_user.id, request.form.get("daily_digest") == "1")

    return perform(
        save,
        then=url_for("notifications.preferences"),
        success=_("Notification preferences saved."),
        failed=page,
    )


@bp.get("/stream")
@login_required
def stream():
    """``/notifications/stream`` under a plain WSGI server (``flask run``, the tests' live server): the
    current count and a ``retry`` of one poll interval, then the answer ends, so no thread is held and
    EventSource comes back for the next count. The real stream (``webapp.notifications.streaming``,
    mounted by ``webapp.asgi``) answers this path first wherever the app runs in the README's shape."""
    body = f"retry: {get('notifications.poll_seconds') * 1000}\n\n" + live.sse(
        "count", live.count_html(current_user.id)
    )
    return Response(body, mimetype="text/event-stream", headers={"Cache-Control": "no-cache, no-store"})


@admin_bp.get("/")
def admin_index():
    return render("notifications/admin_live.html", open_count=live.open_count(), sessions=live.recent())
