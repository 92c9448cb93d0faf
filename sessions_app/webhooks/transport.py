"""Requests we send to addresses our customers give us (webhook receivers), made safe.

- A short timeout for connecting and for each read, and a small cap on what is read back.
- Redirects are not followed: a 3xx is an answer like any other (a failure).
- No proxy from the environment is used.
- The SSRF guard: the receiver's name is resolved once, and every address it resolves to
  must be a public one (unless ``WEBHOOKS["ALLOW_PRIVATE_ADDRESSES"]`` is on, in development
  and tests, or it lies in ``WEBHOOKS["ALLOWED_NETWORKS"]``) before anything is sent; the
  connection is then made to a checked address, so a second lookup cannot swap it, and a
  refused address is never connected to (no port scan through the delivery log).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

USER_AGENT = "SessionsManager-Webhooks/1.0"
MAX_ANSWER_BYTES = 64 * 1024


class RefusedAddress(OSError):
    """The receiver's address is private, loopback, link-local or otherwise not public."""


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(network, strict=False)
        for network in settings.WEBHOOKS["ALLOWED_NETWORKS"]
    ]


def address_allowed(address: str) -> bool:
    """May we send to this IP address?"""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_global and not ip.is_multicast:
        return True
    if settings.WEBHOOKS["ALLOW_PRIVATE_ADDRESSES"] and not (ip.is_multicast or ip.is_unspecified):
        return True
    return any(ip in network for network in _networks())


def host_is_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


REFUSED = (
    "The receiver's address is not one webhooks are sent to (not a public address); "
    "nothing was sent."
)


def connect_checked(address: tuple[str, int], timeout=None, source_address=None) -> socket.socket:
    """``socket.create_connection`` with the guard: the name is resolved once, every
    address it resolves to is checked, and only then is a checked address connected to.
    A refused address never sees a packet from us, and every refusal reads the same, so
    the errors tell an inside port that is open from one that is closed no more than they
    tell a name from a number."""
    host, port = address
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not infos or not all(address_allowed(info[4][0]) for info in infos):
        raise RefusedAddress(REFUSED)
    failure: OSError | None = None
    for family, kind, proto, _name, where in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            sock.connect(where)
            return sock
        except OSError as exc:
            sock.close()
            failure = exc
    raise failure or OSError("No address to connect to.")


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = connect_checked


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = connect_checked  # TLS goes over the checked connection


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    duration_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """POST ``body`` to ``url``; never raises, whatever the URL, the receiver or the network
    does: every failure is an ``Answer`` with its error, for the delivery log."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when it is not a port number
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) URL")
    except ValueError as exc:
        return Answer(None, elapsed(), f"Not a URL a webhook can be sent to: {exc}"[:500])
    connection_class = _HTTPSConnection if parts.scheme == "https" else _HTTPConnection
    kwargs = {"context": ssl.create_default_context()} if parts.scheme == "https" else {}
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = connection_class(parts.hostname, port, timeout=timeout, **kwargs)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
        )
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
        status = response.status
        if 300 <= status < 400:
            where = response.getheader("Location", "")[:200]
            return Answer(status, elapsed(), f"Redirect to {where!r} not followed.")
        return Answer(status, elapsed(), "" if 200 <= status < 300 else f"HTTP {status}")
    except RefusedAddress as exc:
        return Answer(None, elapsed(), str(exc))
    except TimeoutError:
        return Answer(None, elapsed(), f"No answer within {timeout:g} s.")
    except socket.gaierror as exc:
        return Answer(None, elapsed(), f"Name lookup failed: {exc.strerror or exc}")
    except ssl.SSLError as exc:
        return Answer(None, elapsed(), f"TLS failed: {exc.reason or exc}"[:500])
    except (OSError, http.client.HTTPException, ValueError, UnicodeError) as exc:
        return Answer(None, elapsed(), f"{type(exc).__name__}: {exc}"[:500])
    finally:
        connection.close()
