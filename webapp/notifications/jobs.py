"""Cleanup of live connections that went silent."""

from __future__ import annotations

from webapp.jobs import job, periodic
from webapp.notifications import live


@periodic("* * * * *")
@job(queue="maintenance", retries=1)
def close_silent_sessions() -> int:
    return live.close_silent()
