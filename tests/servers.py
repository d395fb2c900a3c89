"""Real server processes for the tests and the benchmarks: the provider sandboxes, the web server in
the README's run shape, an RQ worker. Each is a subprocess on a free loopback port, stopped by
``stop()`` (or at exit)."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process whose output goes to a log file (shown when it fails to start)."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        atexit.register(self.stop)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_http(self, url: str, timeout: float = 60, expect: int = 200) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == expect:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 15) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self._log.close()


def child_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def start_sandboxes(log_dir: Path, *, database_url: str, instance_path: Path, port: int | None = None, **env: str):
    """The sandbox process (gunicorn, one worker: studio sandboxes keep their state in its memory).
    Returns (process, url)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:webapp.integrations.sandboxes._gunicorn"]
    argv.append("webapp.integrations.sandboxes:create_sandbox_app()")
    extra = {"SANDBOX_DATABASE_URL": database_url, "INSTANCE_PATH": str(instance_path), "SANDBOX_PORT": str(port)}
    extra.update(env)
    process = Process("sandboxes", argv, child_env(**extra), log_dir)
    process.wait_http(f"{url}/_sandbox")
    return process, url


def start_web(log_dir: Path, *, port: int | None = None, workers: int = 2, threads: int = 4, **env: str):
    """The web process in the README's run shape (gunicorn, uvicorn workers: pages on threads, live
    streams on the event loop). ``env`` carries DATABASE_URL, REDIS_URL, SANDBOX_URL… Returns (process, url)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    extra = {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_WORKERS": str(workers),
        "WEB_THREADS": str(threads),
        "BASE_URL": url,
        "ACCESS_LOG": "",
        **env,
    }
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:webapp.gunicorn_conf", "asgi:app"]
    process = Process(f"web-{port}", argv, child_env(**extra), log_dir)
    process.wait_http(f"{url}/healthz")
    return process, url


def start_worker(log_dir: Path, **env: str) -> Process:
    """An RQ worker with its scheduler on every queue (``flask worker``)."""
    argv = [sys.executable, "-m", "flask", "--app", "wsgi.py", "worker"]
    return Process("worker", argv, child_env(**env), log_dir)


def start_redis(log_dir: Path, *, port: int | None = None) -> tuple[Process, int]:
    """A Redis server of the caller's own on a loopback port (no persistence): stop it to simulate an
    outage, start it again on the same port to end it. Returns (process, port)."""
    import redis

    port = port or free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = Process(f"redis-{port}", argv, child_env(), log_dir)
    deadline = time.monotonic() + 20
    while True:
        if process.popen.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.popen.returncode}:\n{process.log()}")
        with contextlib.suppress(redis.exceptions.RedisError):
            if redis.Redis(port=port, socket_connect_timeout=0.5).ping():
                return process, port
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not answer on port {port}:\n{process.log()}")
        time.sleep(0.05)


def login(client: httpx.Client, email: str, password: str = "correct horse battery") -> None:
    """Sign in over HTTP the way a browser does (the login form's CSRF token, then the POST)."""
    import re

    page = client.get("/auth/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})
    assert answer.status_code == 303, answer.text[:500]
