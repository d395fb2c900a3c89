"""The one guarded HTTP client for every request to a URL a customer chose.

Workflow HTTP steps (and any later feature that calls a customer's URL) send through ``fetch``. It:

* resolves the host itself and refuses loopback, private, link-local, carrier-grade NAT, multicast,
  reserved, unspecified and cloud-metadata addresses, IPv4 and IPv6 (IPv4-mapped, 6to4, NAT64 and
  Teredo forms are judged by the IPv4 address inside; numeric notations such as ``2130706433``,
  ``0x7f.1`` or ``017700000001`` resolve to the address they mean and are judged as such);
* connects to the vetted address itself (the URL is rewritten to the IP, the ``Host`` header and TLS
  SNI keep the name), so a second DNS answer cannot swap in an internal address (no rebinding), and
  checks the peer address of the socket it got;
* vets every redirect hop the same way, at most ``MAX_REDIRECTS``;
* caps the request body, the response body (streamed; reading stops at the cap) and the total time;
* reports a refusal with one message whatever the port's state: nothing is ever sent to an internal
  address, so "refused", "closed" and "timed out" cannot be told apart.

What is reused: one TLS context per process (built once, read-only afterwards, safe to share between
threads); and, inside ``reuse_connections()`` (one job's scope), open connections per vetted
(scheme, host, port, address): every request is vetted again first, and a connection is only reused
for the very name and address it was opened for (so TLS SNI and the ``Host`` header always match the
connection). Outside that scope each ``fetch`` opens and closes its own connections.

A self-hoster names internal hosts that may be called in the setting
``outbound.allowed_internal_hosts`` (host names or IP literals exactly as written in the URL).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from webapp.settings import define, get

define(
    "outbound.allowed_internal_hosts",
    list,
    [],
    "Internal hosts (names or IPs as written in the URL) that customer-chosen URLs may reach",
)
define(
    "outbound.max_response_bytes",
    int,
    1_048_576,
    "Largest response read from a customer URL",
    minimum=1024,
    maximum=50_000_000,
)
define(
    "outbound.max_request_bytes",
    int,
    1_048_576,
    "Largest request body sent to a customer URL",
    minimum=1024,
    maximum=50_000_000,
)

MAX_REDIRECTS = 5
REFUSED = "The address {host} is not reachable from Tessera (internal or reserved addresses are refused)."

# Networks Python's ``is_global`` does not already rule out, or that deserve naming.
_EXTRA_BLOCKED = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "169.254.0.0/16",  # link-local, incl. 169.254.169.254 metadata
        "192.0.0.0/24",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "255.255.255.255/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
        "::/128",
        "::1/128",
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "100::/64",
    )
]


class OutboundRefused(Exception):
    """The request was not sent (internal address, bad scheme, too large). The message is safe to show."""


class OutboundUnresolvable(OutboundRefused):
    """The host has no address (now): nothing was sent."""


class OutboundFailed(Exception):
    """The request was sent to a public address and failed (network, timeout, too slow)."""

    def __init__(self, message: str, *, kind: str):
        super().__init__(message)
        self.kind = kind


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    packed = address.packed
    if packed[:12] == bytes(12) and any(packed[12:]):  # IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed[12:])
    if address in ipaddress.ip_network("64:ff9b::/96") or address in ipaddress.ip_network("64:ff9b:1::/48"):
        return ipaddress.IPv4Address(packed[12:])
    return None


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        inner = _embedded_ipv4(address)
        if inner is not None:
            return is_public_address(inner)
    if any(address in network for network in _EXTRA_BLOCKED if network.version == address.version):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _allowed_internal(host: str) -> bool:
    allowed = {h.strip().lower().strip("[]") for h in get("outbound.allowed_internal_hosts") or []}
    return host.lower().strip("[]") in allowed


def resolve_public(host: str, port: int) -> list[str]:
    """The addresses to connect to for ``host``; every one must be public unless the host is allowed."""
    bare = host.strip("[]")
    if not bare:
        raise OutboundRefused("The URL has no host.")
    try:
        infos = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise OutboundUnresolvable(f"The host {host} could not be resolved.") from None
    addresses = []
    for info in infos:
        text = str(info[4][0])  # an IP address as text for the stream sockets asked for
        address = ipaddress.ip_address(text.split("%", 1)[0])
        addresses.append((text, address))
    if not addresses:
        raise OutboundUnresolvable(f"The host {host} could not be resolved.")
    if _allowed_internal(host):
        return [text for text, _ in addresses]
    # One internal answer is enough to refuse: a name that mixes public and internal answers is a trap.
    if not all(is_public_address(address) for _, address in addresses):
        raise OutboundRefused(REFUSED.format(host=host))
    return [text for text, _ in addresses]


def check_destination(url: str) -> None:
    """Refuse now what ``fetch`` would refuse when it sends: a URL whose host is, or resolves to, an
    internal address (unless ``outbound.allowed_internal_hosts`` names it). For a form that stores a
    URL to call later (a webhook endpoint). A name with no address today passes: every send vets the
    destination again, so a name that later resolves inward is still refused then."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise OutboundRefused("Enter a full http:// or https:// URL.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise OutboundRefused("Only http:// and https:// addresses can be called.")
    try:
        resolve_public(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except OutboundUnresolvable:
        return


_ssl_context: ssl.SSLContext | None = None
_ssl_lock = threading.Lock()


def ssl_context() -> ssl.SSLContext:
    """The process's one TLS context (certificate verification on, certifi's CA bundle loaded once:
    building it costs tens of milliseconds of CPU). Shared by the guarded client and the provider
    client; an SSLContext is safe to share between clients and threads."""
    global _ssl_context
    if _ssl_context is None:
        with _ssl_lock:
            if _ssl_context is None:
                _ssl_context = httpx.create_ssl_context()
    return _ssl_context


# Open connections of the current ``reuse_connections()`` scope, by (scheme, host, port, vetted address).
_pools: ContextVar[dict | None] = ContextVar("outbound_pools", default=None)


@contextlib.contextmanager
def reuse_connections():
    """Within this block, ``fetch`` keeps connections open for the next request to the same vetted
    (scheme, host, port, address); all are closed when it ends. For one job that sends many requests."""
    pools: dict = {}
    token = _pools.set(pools)
    try:
        yield
    finally:
        _pools.reset(token)
        for transport in pools.values():
            with contextlib.suppress(Exception):
                transport.close()


class GuardedTransport(httpx.BaseTransport):
    """Vets the destination of each request (every redirect hop passes here) and connects to that IP,
    through a connection kept for exactly that (scheme, host, port, address)."""

    def __init__(self, pools: dict | None = None):
        self._shared = pools is not None
        self._pools = pools if pools is not None else {}

    def _transport(self, key) -> httpx.HTTPTransport:
        transport = self._pools.get(key)
        if transport is None:
            transport = httpx.HTTPTransport(verify=ssl_context(), retries=0, trust_env=False)
            self._pools[key] = transport
        return transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise OutboundRefused("Only http:// and https:// addresses can be called.")
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = resolve_public(host, port)
        ip = addresses[0]
        pinned = url.copy_with(host=ip)
        extensions = dict(request.extensions)
        if url.scheme == "https":
            extensions["sni_hostname"] = host
        inner = httpx.Request(
            request.method, pinned, headers=request.headers, stream=request.stream, extensions=extensions
        )
        response = self._transport((url.scheme, host.lower(), port, ip)).handle_request(inner)
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer is not None and not _allowed_internal(host):
            connected = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
            if not is_public_address(connected) or str(connected) != str(ipaddress.ip_address(ip.split("%", 1)[0])):
                response.close()
                raise OutboundRefused(REFUSED.format(host=host))
        return response

    def close(self) -> None:
        if self._shared:
            return  # the scope's connections outlive this request; ``reuse_connections`` closes them
        for transport in self._pools.values():
            transport.close()
        self._pools.clear()


@dataclass
class OutboundResponse:
    status_code: int
    headers: httpx.Headers
    content: bytes
    truncated: bool
    url: str
    duration_ms: int

    @property
    def text(self) -> str:
        """The body as text that can be stored: undecodable bytes and NUL (which PostgreSQL text and
        JSON refuse) become U+FFFD. Whatever a remote server answers, recording it never fails."""
        return self.content.decode(errors="replace").replace("\x00", "\ufffd")


def fetch(
    method: str,
    url: str,
    *,
    headers: dict | None = None,
    content: bytes | None = None,
    timeout: float = 15.0,
    max_response_bytes: int | None = None,
    max_request_bytes: int | None = None,
) -> OutboundResponse:
    """Send one request to a customer-chosen URL. Raises ``OutboundRefused`` (nothing sent) or
    ``OutboundFailed`` (sent, no answer in time or the connection broke)."""
    max_response = max_response_bytes or int(get("outbound.max_response_bytes"))
    max_request = max_request_bytes or int(get("outbound.max_request_bytes"))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("Only http:// and https:// addresses can be called.")
    if content is not None and len(content) > max_request:
        raise OutboundRefused(f"The request body is larger than {max_request} bytes.")
    started = time.monotonic()
    deadline = started + timeout
    headers = dict(headers or {})
    # Compressed bodies are not inflated (a small gzip can expand past any cap): ask for none.
    headers.setdefault("Accept-Encoding", "identity")
    client = httpx.Client(
        transport=GuardedTransport(_pools.get()),
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        trust_env=False,  # a proxy from the environment would connect for us, unvetted
    )
    try:
        with client.stream(method, url, headers=headers, content=content) as response:
            chunks, size, truncated = [], 0, False
            for chunk in response.iter_raw(65536):
                if time.monotonic() > deadline:
                    raise OutboundFailed(f"The answer took longer than {timeout:g} s.", kind="timeout")
                if size + len(chunk) > max_response:
                    chunks.append(chunk[: max_response - size])
                    truncated = True
                    break
                chunks.append(chunk)
                size += len(chunk)
            return OutboundResponse(
                response.status_code,
                response.headers,
                b"".join(chunks),
                truncated,
                str(response.url),
                int((time.monotonic() - started) * 1000),
            )
    except httpx.TooManyRedirects:
        raise OutboundFailed(f"More than {MAX_REDIRECTS} redirects.", kind="redirects") from None
    except httpx.TimeoutException:
        raise OutboundFailed(f"No answer within {timeout:g} s.", kind="timeout") from None
    except httpx.TransportError as error:
        raise OutboundFailed(f"The connection failed ({type(error).__name__}).", kind="network") from None
    finally:
        client.close()
