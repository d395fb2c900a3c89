import pytest

from tests.workflows.helpers import start_http_server


@pytest.fixture
def http_server():
    server, recorder, url = start_http_server()
    yield recorder, url
    server.shutdown()
    server.server_close()
