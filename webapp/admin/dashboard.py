"""The console's front page: the business view."""

from webapp.admin import bp
from webapp.core.htmx import render


@bp.get("/")
def index():
    return render("admin/index.html")
