"""The workflow HTTP step sends through the guarded client: a loopback listener never hears from it."""

from __future__ import annotations

import pytest

from tests.outbound_helpers import SilentListener


@pytest.fixture
def listener():
    silent = SilentListener()
    yield silent
    silent.close()


def test_workflow_http_step_cannot_reach_loopback(client, ctx, run_jobs, listener):
    from tests.workflows.helpers import owner_setup
    from tests.workflows.test_steps import _build, _start

    user, org = owner_setup(client)
    step = ("http_request", {"method": "GET", "url": f"http://2130706433:{listener.port}/", "body": ""}, None)
    workflow = _build(org, user, [step])
    run = _start(client, org, workflow, run_jobs)
    assert run.status == "FAILED"
    page = client.get(f"/o/{org.slug}/workflows/runs/{run.id}").get_data(as_text=True)
    assert "not reachable" in page and "RemoteProtocolError" not in page
    assert listener.connections == 0
