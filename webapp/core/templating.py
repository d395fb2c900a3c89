"""Template filters and the context every page gets (current organization, switcher, permissions)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, has_request_context
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from webapp.core.access import can
from webapp.core.money import format_amount


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M", zone: str | None = None) -> str:
    """Shown in the organization's time zone when there is one, else UTC."""
    if value is None:
        return ""
    org = g.get("org")
    tz = zone or (org.timezone if org is not None else "UTC")
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_amount
    app.jinja_env.filters["dt"] = local_time
    app.jinja_env.filters["date"] = lambda v: local_time(v, "%Y-%m-%d")
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["csrf_token"] = generate_csrf

    @app.context_processor
    def shell_context():
        if not has_request_context():
            return {}
        org = g.get("org")
        memberships = []
        if current_user.is_authenticated:
            from webapp.orgs.services import memberships_of

            memberships = memberships_of(current_user.id)
        return {"current_org": org, "current_membership": g.get("membership"), "my_memberships": memberships}
