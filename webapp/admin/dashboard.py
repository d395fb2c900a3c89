"""The console's front page: the business view (figures a finance person checks every morning)."""

from flask import url_for
from werkzeug.routing import BuildError

from webapp.admin import bp
from webapp.admin.figures import business_charts, business_figures
from webapp.core.htmx import render


def link(endpoint: str, **values) -> str | None:
    """The list behind a figure; None while the page that lists it is not built."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.get("/")
def index():
    from webapp.alerts.services import open_counts
    from webapp.notifications.live import open_count
    from webapp.support.services import open_ticket_count

    fig = business_figures()
    open_tickets = open_ticket_count()
    return render(
        "admin/index.html",
        fig=fig,
        link=link,
        charts=business_charts(fig),
        alerts=open_counts(),
        live_sessions=open_count(),
        open_tickets=open_tickets or 0,
    )
