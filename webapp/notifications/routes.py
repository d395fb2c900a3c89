"""The bell, the list, preferences, and the live stream (server-sent events over Redis pub/sub)."""

from __future__ import annotations

import contextlib
import json
import secrets
import time

from flask import Response, current_app, flash, render_template, request, url_for
from flask_login import current_user, login_required
from redis.exceptions import RedisError

from webapp.core.errors import DomainError
from webapp.core.htmx import redirect, render
from webapp.core.pagination import paginate
from webapp.extensions import db
from webapp.notifications import admin_bp, bp, live
from webapp.notifications import services as notes
from webapp.settings import get


@bp.get("/")
@login_required
def index():
    unread_only = request.args.get("show") == "unread"
    page = paginate(notes.list_for(current_user.id, unread_only), request.args.get("page", 1, type=int), 30)
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
    try:
        row = notes.mark_read(current_user.id, notification_id)
    except DomainError:
        return Response("Not found", status=404)
    db.session.commit()
    if request.form.get("follow") and row.link and row.link.startswith("/"):
        return redirect(row.link)
    return redirect(url_for("notifications.index"))


@bp.post("/read-all")
@login_required
def read_all():
    marked = notes.mark_all_read(current_user.id)
    db.session.commit()
    flash(f"Marked {marked} as read." if marked else "Nothing unread.", "success")
    return redirect(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    types = notes.types_for(current_user.is_staff)
    status = 200
    error = None
    if request.method == "POST":
        choices = {t.name: request.form.get(t.name, "") for t in types}
        try:
            notes.set_preferences(current_user.id, choices)
        except DomainError as exc:
            db.session.rollback()
            error, status = exc.message, 422
        else:
            db.session.commit()
            flash("Notification preferences saved.", "success")
            return redirect(url_for("notifications.preferences"))
    return render(
        "notifications/preferences.html",
        types=types,
        chosen=notes.preferences_of(current_user.id),
        channels=notes.CHANNELS,
        error=error,
        status=status,
    )


def _sse(event: str, data: str) -> str:
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in data.splitlines() or [""]) + "\n"


@bp.get("/stream")
@login_required
def stream():
    """Server-sent events: ``count`` (the bell's HTML) whenever something changes for this user, and
    ``notification`` (JSON) for each new one. Any web process serves any user: changes arrive through
    the user's Redis pub/sub channel. Without Redis the stream checks the count at every heartbeat."""
    app = current_app._get_current_object()
    user_id = current_user.id
    client_id = (request.args.get("client") or secrets.token_hex(8))[:64]
    org_id = request.args.get("org", type=int)
    if org_id is not None:
        from webapp.core.access import load_membership
        from webapp.orgs.models import Organization

        org = db.session.get(Organization, org_id)
        org_id = org.id if org is not None and load_membership(org.slug, user_id) is not None else None
    heartbeat = get("notifications.heartbeat_seconds")
    session_row = live.open_session(user_id, org_id, client_id, request.headers.get("User-Agent", ""))
    session_id = session_row.id
    db.session.commit()
    redis = app.extensions.get("tessera.redis")
    pubsub = None
    try:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(notes.user_channel(user_id))
    except (RedisError, AttributeError):
        pubsub = None

    def count_event() -> str:
        with app.app_context():
            unread = notes.unread_count(user_id)
            html = render_template("notifications/_count.html", unread=unread).strip()
            db.session.remove()
        return _sse("count", html.replace("\n", " "))

    def generate():
        last = None
        try:
            yield f"retry: 5000\n: live session {client_id}\n\n"
            last = count_event()
            yield last
            next_touch = time.monotonic() + heartbeat
            while True:
                message = None
                if pubsub is not None:
                    try:
                        message = pubsub.get_message(timeout=heartbeat)
                    except RedisError:
                        time.sleep(heartbeat)
                else:
                    time.sleep(heartbeat)
                if message and message.get("type") == "message":
                    payload = json.loads(message["data"])
                    last = count_event()
                    yield last
                    if payload.get("kind") == "notification":
                        yield _sse("notification", json.dumps({"id": payload.get("id"), "title": payload.get("title")}))
                if time.monotonic() >= next_touch:
                    # Heartbeat: keeps proxies from closing the stream, shows a gone client (the write
                    # fails), refreshes the live-session row, and re-checks the count in case a message
                    # was missed (or there is no Redis at all).
                    yield ": heartbeat\n\n"
                    current = count_event()
                    if current != last:
                        last = current
                        yield current
                    with app.app_context():
                        live.touch(session_id)
                        db.session.commit()
                        db.session.remove()
                    next_touch = time.monotonic() + heartbeat
        finally:
            if pubsub is not None:
                with contextlib.suppress(RedisError):
                    pubsub.close()
            with app.app_context():
                live.close_session(session_id)
                db.session.commit()
                db.session.remove()

    return Response(
        generate(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@admin_bp.get("/")
def admin_index():
    return render("notifications/admin_live.html", open_count=live.open_count(), sessions=live.recent())
