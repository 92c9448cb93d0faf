"""Requests we send to addresses our customers give us (webhook receivers), made safe.

- A short timeout for connecting and for each read, and a small cap on what is read back.
- Redirects are not followed: a 3xx is an answer like any other (a failure).
- No proxy from the environment is used.
- The SSRF guard: the address actually connected to (after the name lookup, so a name that
  resolves to an inside address is caught too, and a second lookup cannot swap it) must be
  a public one, unless ``WEBHOOKS["ALLOW_PRIVATE_ADDRESSES"]`` is on (development, tests) or
  it lies in ``WEBHOOKS["ALLOWED_NETWORKS"]``.
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


class _Guarded:
    def _check_peer(self) -> None:
        peer = self.sock.getpeername()[0]
        if not address_allowed(peer):
            self.sock.close()
            self.sock = None
            raise RefusedAddress(
                f"{peer} is not a public address; webhooks are not sent to private, loopback "
                "or link-local addresses."
            )


class _HTTPConnection(_Guarded, http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self._check_peer()


class _HTTPSConnection(_Guarded, http.client.HTTPSConnection):
    def connect(self) -> None:
        # The TCP connection first, checked, and only then TLS over it.
        http.client.HTTPConnection.connect(self)
        self._check_peer()
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    duration_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """POST ``body`` to ``url``; never raises for what the receiver or the network does."""
    parts = urlsplit(url)
    connection_class = _HTTPSConnection if parts.scheme == "https" else _HTTPConnection
    kwargs = {"context": ssl.create_default_context()} if parts.scheme == "https" else {}
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    connection = connection_class(parts.hostname, parts.port, timeout=timeout, **kwargs)

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

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
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, elapsed(), f"{type(exc).__name__}: {exc}"[:500])
    finally:
        connection.close()
