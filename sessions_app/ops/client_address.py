"""Who is calling: the client address, honouring a proxy header only when it is configured.

Behind a load balancer every request comes from the balancer's address. With
``TRUSTED_PROXY_HEADER`` (e.g. ``X-Forwarded-For``) and ``TRUSTED_PROXY_COUNT`` (how many
proxies of ours append to it), the client is the entry that the outermost of our proxies
appended: the ``TRUSTED_PROXY_COUNT``-th from the right. Entries left of it come from the
client itself and are never believed. Without the setting, ``REMOTE_ADDR`` is the client.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _meta_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def _valid_ip(value: str) -> str | None:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The caller's address as our own proxies saw it (also axes' ``AXES_CLIENT_IP_CALLABLE``)."""
    remote = request.META.get("REMOTE_ADDR") or None
    header = settings.TRUSTED_PROXY_HEADER
    if not header:
        return remote
    raw = request.META.get(_meta_key(header), "")
    entries = [part for part in raw.split(",") if part.strip()]
    count = max(settings.TRUSTED_PROXY_COUNT, 1)
    if len(entries) < count:
        return remote
    return _valid_ip(entries[-count]) or remote
