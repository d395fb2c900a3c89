"""A real RQ worker (``flask worker``) is SIGKILLed in the middle of a workflow step; the lease it was
renewing runs out, the sweeper fails or re-queues the run with the reason, and a second worker runs
the next queued run of that workflow (one at a time) to completion."""

import os
import signal
import socket
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import DATABASE_URL, REDIS_UP, TEST_REDIS_URL
from tests.factories import make_org, make_user
from tests.outbound_helpers import allow_internal_hosts
from tests.servers import start_worker
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.jobs import lease
from webapp.settings.services import update_setting
from webapp.workflows import execution, services
from webapp.workflows.models import WorkflowRun, WorkflowStepRun

pytestmark = pytest.mark.skipif(not REDIS_UP, reason="needs Redis: the worker is a real RQ worker")


class HangThenAnswer:
    """Loopback HTTP: the first ``hang`` connections are accepted and never answered; later ones get 200."""

    def __init__(self, hang: int = 1):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hang, self.accepted, self.answered = hang, 0, 0
        self.held: list[socket.socket] = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            if self.accepted <= self.hang:
                self.held.append(conn)  # never answered
                continue
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                part = conn.recv(65536)
                if not part:
                    break
                data += part
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n")
            conn.sendall(b'Connection: close\r\n\r\n{"ok": true}')
            conn.close()
            self.answered += 1

    def close(self):
        self._stop = True
        self._thread.join(timeout=2)
        for conn in self.held:
            conn.close()
        self.sock.close()


def _wait(predicate, timeout: float, what: str, worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        db.session.rollback()
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{worker.log()}" if worker else ""))


def _run(run_id) -> WorkflowRun:
    return db.session.get(WorkflowRun, run_id)


@pytest.mark.parametrize(
    ("method", "outcome"),
    [("POST", WorkflowRun.FAILED), ("GET", WorkflowRun.SUCCEEDED)],
    ids=["unsafe-step-fails", "safe-step-requeued"],
)
def test_killing_the_worker_mid_step(app, ctx, tmp_path, method, outcome):
    listener = HangThenAnswer(hang=1)
    allow_internal_hosts(app, "127.0.0.1")
    update_setting("jobs.lease_seconds", "2", None)
    update_setting("workflows.http_timeout_seconds", "120", None)
    owner = make_user("owner@deadworker.example")
    org = make_org(owner, "Dead Worker Co", "dead-worker")
    workflow = services.create_workflow(org, owner, "Slow partner", "", "manual", {})
    step = services.add_step(workflow, owner, "http_request")
    step.config = {**step.config, "method": method, "url": f"http://127.0.0.1:{listener.port}/slow", "body": ""}
    db.session.commit()
    env = {"DATABASE_URL": DATABASE_URL, "REDIS_URL": TEST_REDIS_URL, "JOBS_BACKEND": "rq"}
    first = start_worker(tmp_path, **env)
    second = None
    try:
        stuck = execution.start_run(workflow, "manual", {"n": 1})
        db.session.commit()
        stuck_id = stuck.id
        _wait(lambda: listener.accepted == 1, 60, "the step to reach the listener", first)
        running = _run(stuck_id)
        horse = int(running.lease_owner.split(":")[1])  # the lease names the process that runs the step
        assert running.status == WorkflowRun.RUNNING and horse not in (os.getpid(), first.popen.pid)
        queued = execution.start_run(workflow, "manual", {"n": 2})  # waits for the one slot
        db.session.commit()
        queued_id = queued.id
        time.sleep(3)  # longer than the lease: only the worker's heartbeat keeps it alive
        db.session.expire_all()
        assert _run(stuck_id).lease_expires_at > utcnow()
        assert lease.sweep() == {}

        # The worker and its work horse (RQ starts the horse in a session of its own), mid-step.
        os.killpg(first.popen.pid, signal.SIGKILL)
        os.kill(horse, signal.SIGKILL)
        first.popen.wait(10)
        _wait(lambda: _run(stuck_id).lease_expires_at < utcnow(), 10, "the lease to run out")
        assert _run(stuck_id).status == WorkflowRun.RUNNING  # what happened before leases: stuck for ever
        second = start_worker(tmp_path, **env)
        time.sleep(4)  # the second worker takes the queued run's job, finds no free slot, leaves it QUEUED
        assert _run(queued_id).status == WorkflowRun.QUEUED

        swept = lease.sweep()
        assert swept == {"workflow_runs": {"failed" if method == "POST" else "requeued": 1}}
        _wait(lambda: _run(queued_id).status == WorkflowRun.SUCCEEDED, 60, "the next run to finish", second)
        if method == "GET":
            _wait(lambda: _run(stuck_id).status == WorkflowRun.SUCCEEDED, 60, "the re-queued run", second)
        db.session.expire_all()
        lost = _run(stuck_id)
        assert lost.status == outcome and lost.lease_owner is None
        steps = db.session.scalars(
            select(WorkflowStepRun).where(WorkflowStepRun.run_id == stuck_id).order_by(WorkflowStepRun.id)
        ).all()
        assert steps[0].status == WorkflowStepRun.FAILED and "worker stopped" in steps[0].error
        if method == "POST":
            assert "The worker stopped while running step 1 (HTTP request); nothing after it ran." in lost.error_message
            assert listener.answered == 1  # the next run only: the interrupted POST was not sent again
        else:
            assert "queued again" in lost.errors[-1]["message"]
            assert [s.status for s in steps] == [WorkflowStepRun.FAILED, WorkflowStepRun.SUCCEEDED]
            assert listener.answered == 2
        finished = _run(queued_id)
        assert finished.lease_owner is None and finished.completed_at - finished.started_at < timedelta(seconds=30)
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()
        listener.close()
