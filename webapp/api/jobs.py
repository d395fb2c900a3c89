"""Copy API keys' last-used times from Redis into the table, once a minute."""

from __future__ import annotations

from flask import current_app

from webapp.api.services import flush_last_used
from webapp.jobs import job, periodic


@periodic("* * * * *")
@job(queue="maintenance", retries=1)
def flush_api_key_last_used() -> int:
    if current_app.extensions.get("tessera.jobs_backend") != "rq":
        return 0
    return flush_last_used(current_app.extensions["tessera.redis"])
