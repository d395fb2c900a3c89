"""Talk to a served app over real HTTP: log in, read server-sent events."""

from __future__ import annotations

import re
import time

import httpx

from tests.factories import PASSWORD

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def http_login(base_url: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=10)
    page = client.get("/auth/login")
    token = TOKEN.search(page.text).group(1)
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text[:500]
    return client


def csrf(client: httpx.Client, path: str) -> str:
    return TOKEN.search(client.get(path).text).group(1)


class EventReader:
    """Reads ``event:``/``data:`` blocks from an open SSE response."""

    def __init__(self, response: httpx.Response):
        self.lines = response.iter_lines()

    def next_event(self, name: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        event, data = None, []
        for line in self.lines:
            if time.monotonic() > deadline:
                break
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data.append(line.split(":", 1)[1].strip())
            elif line == "":
                if event == name:
                    return "\n".join(data)
                event, data = None, []
        raise AssertionError(f"no {name!r} event within {timeout}s")

    def first_of_each(self, *names: str, timeout: float = 30.0) -> dict[str, str]:
        """The first event of each name, in whatever order they come (a notification and the count it
        changes are two events with no order between them)."""
        deadline = time.monotonic() + timeout
        found: dict[str, str] = {}
        event, data = None, []
        for line in self.lines:
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data.append(line.split(":", 1)[1].strip())
            elif line == "":
                if event in names and event not in found:
                    found[event] = "\n".join(data)
                if len(found) == len(names) or time.monotonic() > deadline:
                    break
                event, data = None, []
        missing = [name for name in names if name not in found]
        assert not missing, f"no {missing} event within {timeout}s (got {sorted(found)})"
        return found

    def wait_for(self, name: str, needle: str, timeout: float = 15.0) -> str:
        """Read ``name`` events until one contains ``needle`` (a stream may send intermediate counts)."""
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            data = self.next_event(name, timeout=max(0.1, deadline - time.monotonic()))
            if needle in data:
                return data
            seen.append(data)
        raise AssertionError(f"no {name!r} event with {needle!r}; saw {seen}")
