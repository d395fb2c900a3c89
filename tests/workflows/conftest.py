import pytest

from tests.outbound_helpers import allow_internal_hosts
from tests.workflows.helpers import start_http_server


@pytest.fixture
def http_server(app):
    server, recorder, url = start_http_server()
    # The test server is on loopback, which the guarded client refuses unless a self-hoster allows it.
    allow_internal_hosts(app, "127.0.0.1")
    yield recorder, url
    server.shutdown()
    server.server_close()
