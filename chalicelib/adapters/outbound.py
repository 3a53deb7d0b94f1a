"""The one way out: every server-side HTTP request to a URL a user gave (registry checks and their
token realms, chat webhooks) goes through `request` here.

It resolves the host once, refuses the answer unless every address is public (or inside
`OUTBOUND_ALLOWED_NETWORKS`), and connects to the address it checked, sending the original Host
header and, for HTTPS, the original name as SNI with the certificate verified against it: a DNS
answer that changes between check and connect (rebinding) changes nothing. Link-local addresses
(cloud metadata, 169.254.0.0/16, fe80::/10, fd00:ec2::254), unspecified and multicast addresses are
refused whatever the setting says. Redirects are followed hop by hop through the same check; a
request with a body is never redirected to another origin, and credentials never cross origins.
One deadline covers the whole call (connect, headers, body, every hop) and bodies are capped.

Errors say what the caller may repeat to a user: nothing about what answered at the address.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi

from chalicelib import settings

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_SECONDS = 8.0
MAX_BYTES = 4 * 1024 * 1024
MAX_REDIRECTS = 3
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
# Refused even when OUTBOUND_ALLOWED_NETWORKS covers them: instance metadata and the like.
ALWAYS_REFUSED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "0.0.0.0/8", "::/128", "224.0.0.0/4", "ff00::/8")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# getaddrinfo has no timeout of its own: lookups run here so the caller can stop waiting.
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbound-dns")


class OutboundError(Exception):
    """The request was not made or got no usable answer; the text names no address nor status."""


class Refused(OutboundError):
    """The address (or a redirect's) is not one the platform may connect to."""


class Unreachable(OutboundError):
    """No usable answer in time: refused connection, timeout, TLS failure, garbage, too large."""


class Deadline:
    """One time budget shared by every step (and every hop, or every call) that is given it."""

    def __init__(self, seconds: float = DEFAULT_SECONDS) -> None:
        self.ends = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise Unreachable("no answer in time")
        return left


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):  # RecursionError: nesting deep enough to exhaust the stack
            raise Unreachable("the answer is not JSON") from None


@dataclass
class _Target:
    scheme: str
    host: str
    port: int
    address: IPAddress
    path: str = field(default="/")


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def allowed_networks() -> list[IPNetwork]:
    """OUTBOUND_ALLOWED_NETWORKS: comma-separated CIDRs let through although not public (`none`: none)."""
    raw = settings.outbound_allowed_networks().strip()
    if raw.lower() in ("", "none"):
        return []
    networks: list[IPNetwork] = []
    for part in filter(None, (piece.strip() for piece in raw.split(","))):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            log.warning("OUTBOUND_ALLOWED_NETWORKS: %r is not a network; ignored", part)
    return networks


def unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped, NAT64 or 6to4 IPv6 address (where the packets go)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour:
            return address.sixtofour
    return address


def is_refused(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> bool:
    """True unless the address is public unicast or (not link-local) inside an allowed network."""
    target = unwrap(address)
    if any(candidate in net for candidate in (address, target) for net in ALWAYS_REFUSED):
        return True
    if target.is_global and not target.is_multicast:
        return False
    return not any(target.version == net.version and target in net for net in allowed)


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as a number means (any spelling: 2130706433, 0x7f000001, 127.1,
    [::ffff:127.0.0.1]); None for a name. No DNS lookup."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(str(infos[0][4][0]).split("%", 1)[0])


def literal_is_refused(url: str) -> bool:
    """Checks a URL whose host is written as an address, without resolving names (for validation)."""
    host = urlsplit(url if "://" in url else f"https://{url}").hostname or ""
    address = literal_address(host)
    return address is not None and is_refused(address, allowed_networks())


def resolve(url: str, deadline: Deadline | None = None) -> _Target:
    """Parses and resolves the URL once; raises Refused unless every address it has may be reached.
    The lookup counts against the deadline (a resolver that hangs does not hold the call)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise Refused("only http(s) URLs without credentials are allowed")
    port = _port(url)
    addresses = _addresses(parts.hostname, port, deadline or Deadline())
    allowed = allowed_networks()
    if any(is_refused(address, allowed) for address in addresses):
        raise Refused("the address is not allowed")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(parts.scheme, parts.hostname, port, addresses[0], path)


def _port(url: str) -> int:
    try:
        return origin(url)[2]
    except ValueError:
        raise Refused("the port is not a port") from None


def _addresses(host: str, port: int, deadline: Deadline) -> list[IPAddress]:
    lookup = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=deadline.remaining())
    except (OSError, UnicodeError, ValueError, TimeoutError):
        raise Unreachable("the host does not resolve") from None
    if not infos:
        raise Unreachable("the host does not resolve")
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or ""), parts.port or (443 if parts.scheme == "https" else 80)


def request(
    method: str,
    url: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    deadline: Deadline | None = None,
    max_bytes: int = MAX_BYTES,
) -> Reply:
    """Sends the request, following redirects under the policy in the module docstring."""
    deadline = deadline or Deadline()
    headers = dict(headers or {})
    for _ in range(MAX_REDIRECTS + 1):
        reply = _once(method, url, headers, body, deadline, max_bytes)
        location = reply.headers.get("location") if reply.status in _REDIRECTS else None
        if not location:
            return reply
        target = urljoin(url, location)
        method, headers, body = next_hop(method, headers, body, url, target, reply.status)
        url = target
    raise Unreachable("too many redirects")


def next_hop(
    method: str, headers: dict[str, str], body: bytes | None, current: str, target: str, status: int
) -> tuple[str, dict[str, str], bytes | None]:
    """The next hop's request: bodies stay with their origin, credentials too."""
    cross = origin(current) != origin(target)
    if cross and (body is not None or method not in ("GET", "HEAD")):
        raise Refused("a request with a body is not redirected to another origin")
    if status == 303 or (status in (301, 302) and method not in ("GET", "HEAD")):
        method, body = "GET", None
        headers = _without(headers, {"content-type"})
    return method, _without(headers, _CREDENTIAL_HEADERS) if cross else headers, body


def _without(headers: dict[str, str], names: Iterable[str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in names}


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the vetted address; the Host header keeps the name."""

    def __init__(self, target: _Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address
        self.opened: socket.socket | None = None  # kept after http.client lets go of it (will_close)

    def connect(self) -> None:
        self.sock = self.opened = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """TLS to the vetted address, with SNI and certificate checked against the name."""

    def connect(self) -> None:
        super().connect()
        context = ssl.create_default_context(cafile=certifi.where())
        self.sock = self.opened = context.wrap_socket(self.sock, server_hostname=self.host)


def _once(
    method: str, url: str, headers: dict[str, str], body: bytes | None, deadline: Deadline, max_bytes: int
) -> Reply:
    target = resolve(url, deadline)
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target, timeout=deadline.remaining())
    # The socket timeout bounds each read; the watchdog ends the call at the deadline, however it drips.
    fired = threading.Event()
    watchdog = threading.Timer(deadline.remaining(), _abort, (connection, fired))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request(method, target.path, body=body, headers=headers)
        response = connection.getresponse()
        reply = Reply(response.status, _headers(response), _read(response, max_bytes), url)
    except (OSError, http.client.HTTPException, ValueError):
        raise Unreachable("no usable answer") from None
    finally:
        watchdog.cancel()
        connection.close()
    if fired.is_set():  # cut off at the deadline: what was read may be truncated
        raise Unreachable("no answer in time")
    return reply


def _abort(connection: _PinnedHTTPConnection, fired: threading.Event) -> None:
    fired.set()
    sock = connection.opened
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _headers(response: http.client.HTTPResponse) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in response.getheaders():
        found.setdefault(name.lower(), value)
    return found


def _read(response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    declared = response.getheader("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise Unreachable("the answer is too large")
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise Unreachable("the answer is too large")
        chunks.append(chunk)
    return b"".join(chunks)
