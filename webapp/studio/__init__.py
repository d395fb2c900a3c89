"""Studio (seed 002): creators connect TikTok, Instagram and YouTube, upload videos, schedule posts
on a calendar, and jobs publish them exactly once and track engagement."""

from flask import Blueprint

bp = Blueprint("studio", __name__, url_prefix="/o/<slug>/studio")


def init_app(app):
    from webapp import storage
    from webapp.core.registry import add_once
    from webapp.files.services import COUNTED_ELSEWHERE
    from webapp.orgs.dashboard import nav_item
    from webapp.orgs.suspension import RESUME_HOOKS
    from webapp.studio.services.publishing import resume_missed_targets
    from webapp.studio.services.videos import STORAGE_CATEGORY, stored_bytes

    storage.init_app(app)
    add_once(RESUME_HOOKS, resume_missed_targets)
    COUNTED_ELSEWHERE[STORAGE_CATEGORY] = stored_bytes
    nav_item("Studio", "studio.calendar", "studio", order=40)


from webapp.integrations.providers import instagram, tiktok, youtube  # noqa: E402,F401  (OAuth providers)
from webapp.studio import (  # noqa: E402,F401
    hashtag_routes,
    models,
    notices,
    panel,
    routes,
    settings,
)
