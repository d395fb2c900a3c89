"""The console's front page: the business view (figures a finance person checks every morning)."""

from flask import url_for

from webapp.admin import CONSOLE_COUNTS, bp, console_link
from webapp.admin.figures import business_charts, business_figures
from webapp.core.htmx import render


def console_counts() -> list[dict]:
    """The counts other domains declared (open alerts, tickets, live sessions), each with its page."""
    return [
        {"key": c.key, "noun": c.noun, "url": url_for(c.endpoint), "value": c.count() or 0}
        for c in sorted(CONSOLE_COUNTS, key=lambda c: (c.order, c.key))
    ]


@bp.get("/")
def index():
    fig = business_figures()
    return render(
        "admin/index.html",
        fig=fig,
        link=console_link,
        charts=business_charts(fig),
        counts=console_counts(),
    )
