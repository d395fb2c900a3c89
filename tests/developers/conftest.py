"""The loopback receiver, reachable because the outbound allow-list names 127.0.0.1 (as a self-hoster would)."""

import pytest
from flask import g, has_app_context

from tests.developers.receiver import Receiver
from tests.outbound_helpers import allow_internal_hosts


@pytest.fixture
def receiver(app):
    allow_internal_hosts(app, "127.0.0.1")
    if has_app_context():
        g.pop("tessera_settings", None)
    r = Receiver()
    yield r
    r.close()
