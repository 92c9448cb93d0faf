"""The answer to a login attempt while django-axes has locked that username and address out."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render


def lockout_response(request, original_response, credentials):
    """429 with ``Retry-After`` and a page that says for how long (``AXES_LOCKOUT_CALLABLE``)."""
    minutes = max(int(settings.AXES_COOLOFF_TIME.total_seconds() // 60), 1)
    context = {"minutes": minutes, "username": (credentials or {}).get("username", "")}
    response = render(request, "lockout.html", context, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
