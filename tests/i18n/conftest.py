"""Fixtures of the language tests."""

from __future__ import annotations

import pytest

from webapp.extensions import db


@pytest.fixture
def demo(ctx, live_server):
    """The demo, seeded quietly (its sandboxes answer on the live server)."""
    from webapp.demo import run_all

    run_all(log=lambda _line: None)
    db.session.remove()
