import os

from flask import Response, abort, current_app, jsonify, redirect, url_for
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import text

from webapp.core import ratelimits
from webapp.core_pages import bp
from webapp.extensions import db, limiter
from webapp.jobs.runner import redis_connection


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    from webapp.auth.services import landing_url

    return redirect(landing_url(current_user))


@bp.get("/favicon.ico")
@limiter.exempt
def favicon():
    """Browsers ask for /favicon.ico whatever the page links; the answer is the SVG icon (no 404 per page)."""
    icon = current_app.extensions.get("tessera.favicon")
    if icon is None:
        if current_app.static_folder is None:  # the app is made with its static folder
            abort(404)
        with open(os.path.join(current_app.static_folder, "favicon.svg"), "rb") as file:
            icon = current_app.extensions["tessera.favicon"] = file.read()
    return Response(icon, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz():
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any driver error means not ready
        checks["database"] = f"error: {type(error).__name__}"
    if current_app.extensions["tessera.jobs_backend"] == "rq":
        try:
            redis_connection().ping()
            checks["redis"] = "ok"
        except RedisError as error:
            checks["redis"] = f"error: {type(error).__name__}"  # jobs wait in the outbox meanwhile
        if checks["database"] == "ok":
            from webapp.jobs.outbox import waiting

            stale = waiting(older_than=current_app.config["JOBS_OUTBOX_STALE_SECONDS"])
            checks["jobs"] = f"degraded: {stale} job{'' if stale == 1 else 's'} waiting for Redis" if stale else "ok"
    else:
        checks["redis"] = "not used (jobs run in-process)"
    checks["rate_limits"] = ratelimits.state(probe=True)
    # Without Redis the app still serves (jobs in-process, limits in memory): degraded, not unready.
    ready = checks["database"] == "ok"
    degraded = any(not (v == "ok" or v.startswith(("not used", "in memory"))) for v in checks.values())
    status = "unavailable" if not ready else "degraded" if degraded else "ok"
    return jsonify(status=status, checks=checks), 200 if ready else 503
