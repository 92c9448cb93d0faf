"""The benchmark's yardsticks, served beside the real URLs by `make bench` (config.settings.bench).

Both do what the floor of a write on this stack is, a token SELECT and one UPDATE, and
nothing else: no rules, no lock, no history, no rate limit. The headline PATCH is measured
against them in the same run, on the same server and database.
"""

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler500
from config.urls import urlpatterns as real_urlpatterns
from sessions_app.api.authentication import bearer_token, load_access_token
from sessions_app.models import Session


def _rename(request: HttpRequest, pk: int) -> dict | None:
    raw = bearer_token(request)
    token = load_access_token(raw) if raw else None
    if token is None or token.is_expired():
        return None
    name = json.loads(request.body)["name"]
    Session.objects.filter(pk=pk).update(name=name)
    return {"id": pk, "name": name}


@csrf_exempt
def bare_rename(request: HttpRequest, pk: str) -> HttpResponse:
    """A plain Django view: token SELECT + one UPDATE."""
    body = _rename(request, int(pk))
    if body is None:
        return JsonResponse({"detail": "no token"}, status=401)
    return JsonResponse(body)


class DrfRename(APIView):
    """The same two statements behind a DRF APIView (no authentication classes of ours)."""

    authentication_classes: list = []
    permission_classes: list = []

    def patch(self, request, pk: str):
        body = _rename(request._request, int(pk))
        return Response(body, status=200 if body else 401)


urlpatterns = [
    path("bench/bare/<int:pk>", bare_rename),
    re_path(r"^bench/drf/(?P<pk>[0-9]+)$", DrfRename.as_view()),
    *real_urlpatterns,
]

__all__ = ["handler500", "urlpatterns"]
