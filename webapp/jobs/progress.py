"""The poll endpoint for a job row: return ``progress_fragment(run, url)`` from a GET route.

The fragment (``components/_progress.html``) re-polls its own URL every second while the run is
unfinished and drops the polling attributes once it is finished; the last answer also carries an
``HX-Trigger`` event (``finished_event``) so the page can refresh whatever the run changed.
"""

from __future__ import annotations

from flask import Response, render_template

from webapp.core.htmx import set_trigger


def progress_fragment(run, poll_url: str, finished_event: str | None = None) -> Response:
    response = Response(render_template("components/_progress.html", run=run, poll_url=poll_url))
    if run.is_finished and finished_event:
        set_trigger(response, {finished_event: {"id": run.id, "status": run.status}})
    return response
