"""The guarded outbound client refuses internal addresses; listeners on loopback must never be reached."""

from __future__ import annotations

import ipaddress

import pytest

from tests.outbound_helpers import SilentListener, allow_internal_hosts
from tests.workflows.helpers import start_http_server
from webapp.core.outbound import OutboundRefused, fetch, is_public_address
from webapp.workflows.templating import TemplateProblem, render_text


@pytest.fixture
def listener():
    silent = SilentListener()
    yield silent
    silent.close()


def _hosts(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/",
        f"http://localhost:{port}/",
        f"http://2130706433:{port}/",
        f"http://0x7f.1:{port}/",
        f"http://017700000001:{port}/",
        f"http://127.1:{port}/",
        f"http://0:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://[::1]:{port}/",
    ]


def test_every_notation_of_loopback_is_refused_and_nothing_connects(ctx, listener):
    for url in _hosts(listener.port):
        with pytest.raises(OutboundRefused) as refused:
            fetch("GET", url, timeout=2)
        assert "not reachable" in str(refused.value) or "resolved" in str(refused.value), url
    assert listener.connections == 0


def test_open_and_closed_ports_read_the_same(ctx, listener):
    closed = SilentListener()
    closed_port = closed.port
    closed.close()
    messages = []
    for port in (listener.port, closed_port):
        with pytest.raises(OutboundRefused) as refused:
            fetch("GET", f"http://127.0.0.1:{port}/", timeout=2)
        messages.append(str(refused.value))
    assert messages[0] == messages[1]
    assert listener.connections == 0


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "224.0.0.1",
        "240.0.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",
        "2002:7f00:1::",
        "ff02::1",
    ],
)
def test_internal_addresses_are_not_public(address):
    assert not is_public_address(ipaddress.ip_address(address))


def test_public_addresses_are_public():
    assert is_public_address(ipaddress.ip_address("93.184.216.34"))
    assert is_public_address(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"))


def test_a_redirect_to_an_internal_address_is_refused(app, ctx, listener):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{listener.port}/secret")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        allow_internal_hosts(app, "localhost")  # the first hop is allowed, 127.0.0.1 is not
        with pytest.raises(OutboundRefused):
            fetch("GET", f"http://localhost:{server.server_address[1]}/start", timeout=2)
    finally:
        server.shutdown()
        server.server_close()
    assert listener.connections == 0


def test_response_is_capped(app, ctx):
    server, recorder, url = start_http_server()
    try:
        allow_internal_hosts(app, "127.0.0.1")
        recorder.reply = {"big": "x" * 50_000}
        response = fetch("GET", f"{url}/", timeout=5, max_response_bytes=2048)
        assert response.truncated and len(response.content) == 2048
        with pytest.raises(OutboundRefused):
            fetch("POST", f"{url}/", content=b"x" * 5000, timeout=5, max_request_bytes=4096)
    finally:
        server.shutdown()
        server.server_close()


def test_template_output_is_capped():
    with pytest.raises(TemplateProblem):
        render_text("{{ 'x' * 30000000 }}", {})
    with pytest.raises(TemplateProblem):
        render_text("{% for i in range(100000) %}xxxxxxxxxx{% endfor %}", {})
