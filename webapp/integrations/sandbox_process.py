"""Finding (or, for one demo step, starting) the sandbox process at ``SANDBOX_URL``.

The product never imports the sandboxes: it talks to them over HTTP like to any provider. Only the
demo, which needs a provider to say "Allow", makes sure one answers, and it checks that what answers
is the sandbox process (``GET /_sandbox``), not whatever else listens on that port.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from flask import current_app

log = logging.getLogger(__name__)
IDENTITY = "tessera-sandboxes"  # what GET /_sandbox answers in webapp.integrations.sandboxes
ROOT = Path(__file__).resolve().parents[2]


class SandboxUnavailable(RuntimeError):
    """Nothing usable answers at SANDBOX_URL."""


def identify(url: str) -> str | None:
    """``"sandboxes"`` when the sandbox process answers at ``url``, ``"other"`` when something else
    does, None when nothing listens."""
    try:
        response = httpx.get(f"{url}/_sandbox", timeout=3)
    except httpx.HTTPError:
        return None
    try:
        ours = response.status_code == 200 and response.json().get("service") == IDENTITY
    except ValueError:
        ours = False
    return "sandboxes" if ours else "other"


@contextlib.contextmanager
def serving_sandboxes() -> Iterator[str]:
    """Yield SANDBOX_URL once the sandbox process answers there, starting one for the duration of the
    block when nothing listens (``flask seed demo`` run on its own)."""
    url = current_app.config["SANDBOX_URL"]
    found = identify(url)
    if found == "sandboxes":
        yield url
        return
    if found == "other":
        raise SandboxUnavailable(f"something other than the sandbox process answers at SANDBOX_URL={url}")
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost"} or not parts.port:
        raise SandboxUnavailable(f"no sandbox process answers at SANDBOX_URL={url}")
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:webapp.integrations.sandboxes._gunicorn"]
    argv.append("webapp.integrations.sandboxes:create_sandbox_app()")
    env = {**os.environ, "INSTANCE_PATH": current_app.instance_path, "SANDBOX_PORT": str(parts.port)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    log.info("demo: starting the sandbox process at %s for this step", url)
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while identify(url) != "sandboxes":
            if process.poll() is not None or time.monotonic() > deadline:
                raise SandboxUnavailable(f"the sandbox process did not start at {url}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        if process.poll() is None:
            process.kill()
