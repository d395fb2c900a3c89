"""Links to pages of other domains, checked once at start instead of caught at every render.

A table that names endpoints (the console's sidebar and figures, the audit log's entity pages) adds a
function listing them to ``LINKED_ENDPOINTS``; ``create_app`` refuses to start while one of them names
no page, so a template can build every such link without a fallback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask

LINKED_ENDPOINTS: list[Callable[[], Iterable[str]]] = []


def missing_endpoints(app: Flask) -> list[str]:
    return sorted({e for listed in LINKED_ENDPOINTS for e in listed() if e not in app.view_functions})


def check_links(app: Flask) -> None:
    missing = missing_endpoints(app)
    if missing:
        raise RuntimeError(f"links name pages that do not exist: {', '.join(missing)}")
