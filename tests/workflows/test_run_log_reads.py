"""A run log reads as fields (step result, duration, trigger data); the JSON is only behind a Raw toggle."""

from __future__ import annotations

import re

from tests.workflows.helpers import owner_setup
from tests.workflows.test_steps import _build, _start
from webapp.core.display import result_fields


def test_a_run_log_shows_step_results_as_fields_and_json_only_behind_raw(client, ctx, run_jobs):
    user, org = owner_setup(client)
    workflow = _build(
        org,
        user,
        [
            (
                "create_ticket",
                {"subject": "Till {{ trigger.started_by }}", "description": "Check", "priority": "LOW"},
                None,
            )
        ],
    )
    run = _start(client, org, workflow, run_jobs)
    assert run.status == "SUCCEEDED", run.error_message
    page = client.get(f"/o/{org.slug}/workflows/runs/{run.id}").get_data(as_text=True)
    ticket_id = run.outputs["1"]["ticket_id"]
    assert re.search(rf"<dt>Support ticket</dt><dd>{ticket_id}</dd>", page)
    assert re.search(r"\d[\d,]* ms</td>", page)  # the step's duration
    assert "<dt>Started by</dt>" in page and f"<dd>{user.email}</dd>" in page  # the trigger, as fields
    # every JSON object on the page sits inside a Raw toggle
    outside_raw = re.sub(r'<details class="raw">.*?</details>', "", page, flags=re.S)
    assert '{"ticket_id"' not in outside_raw and "&#34;ticket_id&#34;" not in outside_raw
    assert '"started_by"' not in outside_raw and "&#34;started_by&#34;" not in outside_raw
    assert "<summary>Raw</summary>" in page and "ticket_id" in page.split("<summary>Raw</summary>")[1]


def test_result_fields_read_nested_values_lists_and_long_text():
    fields = result_fields(
        {
            "status": 503,
            "body": "x" * 400,
            "holds": False,
            "post_ids": [1, 2, 3, 4, 5, 6, 7],
            "meta": {"retry_ms": 1500},
        }
    )
    assert fields[0] == ("Status code", "503")
    assert fields[1][0] == "Response excerpt" and len(fields[1][1]) == 300 and fields[1][1].endswith("…")
    assert ("Condition held", "No") in fields and ("Posts", "1, 2, 3, 4, 5 and 2 more") in fields
    assert ("Meta · Retry (ms)", "1,500 ms") in fields
    assert result_fields(None) == [] and result_fields("done") == [("Result", "done")]
