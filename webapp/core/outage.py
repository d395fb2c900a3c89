"""When the database is away (a PostgreSQL restart, a failover): a clean 503, then recovery by itself.

Connections are checked before use (``pool_pre_ping`` in config), so a restart that happened between
two requests costs nothing; a request that meets the outage itself gets a 503 page (HTML) or a JSON
error under ``/api/`` with ``Retry-After``, instead of a 500 and a stack trace. The page stands
alone — no layout, no signed-in header — because anything that asks the database would fail again.
"""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, Response, current_app, jsonify
from flask_babel import force_locale
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from webapp.core.i18n import browser_language
from webapp.core.terms import N_
from webapp.extensions import db

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 15
MESSAGE = N_("Tessera cannot reach its database right now. Nothing was changed; try again in a moment.")


def outage_response() -> tuple[Response | str, int, dict[str, str]]:
    from webapp.core.security import wants_json

    body: Response | str
    if wants_json():
        body = jsonify({"error": {"code": "database_unavailable", "message": MESSAGE, "details": {}}})
    else:
        # Straight from the Jinja environment: Flask's context processors would load the signed-in user.
        # The language from the browser alone, for the same reason (the profile's choice is a query).
        with force_locale(browser_language()):
            body = current_app.jinja_env.get_template("errors/unavailable.html").render(message=MESSAGE)
    return body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}


def init_app(app: Flask) -> None:
    # OperationalError: refused, dropped or shut down (PostgreSQL's admin_shutdown during a restart);
    # InterfaceError: a connection that was already closed under us. Bad queries and constraints are
    # other DBAPIError kinds and stay 500s (or perform()'s refusals).
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error: DBAPIError):
        log.warning("database unavailable: %s", error.orig)
        with contextlib.suppress(DBAPIError):
            db.session.rollback()  # the connection is gone; the pool discards it
        return outage_response()
