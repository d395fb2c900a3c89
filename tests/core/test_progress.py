"""The job-row progress fragment: polls its own URL while the run is unfinished, stops when done."""

from __future__ import annotations

from webapp.core.models import JobRunMixin
from webapp.jobs import progress_fragment


class Run(JobRunMixin):
    """A job row without a table: the fragment only reads the mixin's fields."""

    def __init__(self):
        self.id = 7
        self.status, self.progress, self.counts, self.errors = self.QUEUED, 0, {}, []
        self.error_message, self.attempt, self.started_at, self.completed_at = None, 0, None, None


def test_a_running_job_polls_and_a_finished_one_stops_and_announces_itself(app):
    run = Run()
    with app.test_request_context("/runs/7/progress", headers={"HX-Request": "true"}):
        run.mark_running()
        run.report_progress(3, 4)
        run.bump("imported", 3)
        running = progress_fragment(run, "/runs/7/progress", finished_event="sync:finished")
        html = running.get_data(as_text=True)
        assert 'id="run-7"' in html and 'hx-get="/runs/7/progress"' in html and 'hx-trigger="every 1s"' in html
        assert '<progress value="75" max="100"' in html and "imported: 3" in html and "Running" in html
        assert "HX-Trigger" not in running.headers

        run.add_error("partner 12 refused", entity="partner")
        run.mark_finished(run.FAILED, "1 record failed")
        done = progress_fragment(run, "/runs/7/progress", finished_event="sync:finished")
        html = done.get_data(as_text=True)
        assert "hx-get" not in html and "hx-trigger" not in html  # polling stops
        assert "Failed" in html and "1 record failed" in html
        assert done.headers["HX-Trigger"] == '{"sync:finished": {"id": 7, "status": "FAILED"}}'
        assert run.attempt == 1 and run.duration_seconds is not None
