from flask import current_app, jsonify, redirect, url_for
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import text

from webapp.core_pages import bp
from webapp.extensions import db, limiter


@bp.get("/")
def index():
    return redirect(url_for("orgs.home") if current_user.is_authenticated else url_for("auth.login"))


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
    degraded = False
    if current_app.extensions["tessera.jobs_backend"] == "rq":
        try:
            current_app.extensions["tessera.redis"].ping()
            checks["redis"] = "ok"
        except RedisError as error:
            checks["redis"] = f"error: {type(error).__name__}"
            degraded = True  # pages still serve; jobs wait in the outbox (webapp/jobs/outbox.py)
        if checks["database"] == "ok":
            from webapp.jobs.outbox import waiting

            stale = waiting(older_than=current_app.config["JOBS_OUTBOX_STALE_SECONDS"])
            checks["jobs"] = f"degraded: {stale} job{'' if stale == 1 else 's'} waiting for Redis" if stale else "ok"
            degraded = degraded or bool(stale)
    else:
        checks["redis"] = "not used (jobs run in-process)"
    if checks["database"] != "ok":
        return jsonify(status="unavailable", checks=checks), 503
    # Redis away (or jobs waiting for it) is degraded, not down: a load balancer keeps the process.
    return jsonify(status="degraded" if degraded else "ok", checks=checks), 200
