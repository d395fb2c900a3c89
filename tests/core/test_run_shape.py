"""The run shape's settings: loopback unless HOST says otherwise, a busy port named plainly."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from tests.servers import ROOT, child_env

SETTINGS = """
import json, importlib
conf = importlib.import_module("webapp.gunicorn_conf")
sandbox = importlib.import_module("webapp.integrations.sandboxes._gunicorn")
print(json.dumps({"bind": conf.bind, "workers": conf.workers, "worker_class": conf.worker_class,
                  "sandbox_bind": sandbox.bind, "sandbox_workers": sandbox.workers,
                  "control": [conf.control_socket_disable, sandbox.control_socket_disable]}))
"""


def _settings(**env: str) -> dict:
    clean = {k: v for k, v in child_env().items() if k not in {"HOST", "PORT", "WEB_WORKERS", "SANDBOX_PORT"}}
    done = subprocess.run(
        [sys.executable, "-c", SETTINGS], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_the_web_process_binds_loopback_unless_host_says_otherwise():
    assert _settings() == {
        "bind": "127.0.0.1:5000",
        "workers": 2,
        "worker_class": "uvicorn_worker.UvicornWorker",
        "sandbox_bind": "127.0.0.1:5001",
        "sandbox_workers": 1,
        "control": [True, True],
    }
    chosen = _settings(HOST="0.0.0.0", PORT="8080", WEB_WORKERS="3", SANDBOX_PORT="8081")
    assert chosen["bind"] == "0.0.0.0:8080" and chosen["workers"] == 3 and chosen["sandbox_bind"] == "127.0.0.1:8081"


@pytest.fixture
def busy_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="bin/run needs the installed .venv")
def test_bin_run_names_a_busy_port_and_stops(busy_port):
    done = subprocess.run(
        ["bin/run"], cwd=ROOT, env=child_env(PORT=str(busy_port)), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1
    assert f"Port {busy_port} on 127.0.0.1 is busy" in done.stderr and "PORT=5050 make run" in done.stderr


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="bin/run needs the installed .venv")
def test_bin_run_names_a_busy_sandbox_port_and_stops(busy_port):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        web_port = free.getsockname()[1]
    env = child_env(PORT=str(web_port), SANDBOX_PORT=str(busy_port))
    done = subprocess.run(["bin/run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and f"SANDBOX_PORT {busy_port} on 127.0.0.1 is busy" in done.stderr
